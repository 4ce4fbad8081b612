"""Conductance-update characterization: numpy fast path here, ngspice reference in later modules."""
from .fast import lut_from_model

__all__ = ["lut_from_model"]
