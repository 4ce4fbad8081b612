"""Conductance-update lookup tables: the in-memory :class:`SynapseLUT` and its file formats."""
from .core import PulseKind, SynapseLUT, apply_pulses, from_neurosim, from_trajectories

__all__ = ["PulseKind", "SynapseLUT", "apply_pulses", "from_neurosim", "from_trajectories"]
