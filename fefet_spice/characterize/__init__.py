"""Conductance-update characterization: Monte Carlo over devices and pulses -> synapse LUT.

``characterize(CharConfig(...), executor="pool"|"dask"|"serial")`` with the numpy compact model or
ngspice (``backend``); :func:`lut_from_model` is the older single-call numpy fast path.
"""
from .fast import lut_from_model
from .jobs import CharConfig
from .pipeline import Characterization, characterize

__all__ = ["CharConfig", "Characterization", "characterize", "lut_from_model"]
