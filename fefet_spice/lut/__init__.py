"""Conductance-update lookup tables: the in-memory :class:`SynapseLUT`, its native file format
(``fefet-synapse-lut/1``, :mod:`.native`, validated by :mod:`.validate`) and exporters to aihwkit,
NeuroSim and CrossSim (:mod:`.export_aihwkit`, :mod:`.export_neurosim`, :mod:`.export_crosssim`)."""
from .core import (PulseKind, SynapseLUT, apply_pulses, branch_levels, from_neurosim, from_trajectories,
                   mean_branch)

__all__ = ["PulseKind", "SynapseLUT", "apply_pulses", "branch_levels", "from_neurosim", "from_trajectories",
           "mean_branch"]
