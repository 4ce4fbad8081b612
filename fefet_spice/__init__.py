"""fefet_spice: SPICE-level characterization of HZO/MoS2 ferroelectric FETs.

The package root stays light: importing it (or :mod:`fefet_spice.model`) loads numpy only.
Simulator glue (PySpice), fitting (lmfit) and plotting (matplotlib) load on demand.
"""
from .params import ChannelParams, FeFETParams, FerroParams, OperatingPoint, ParamError
from .model.simulate import SimResult, simulate

__version__ = "0.1.0"
__all__ = [
    "ChannelParams", "FeFETParams", "FerroParams", "OperatingPoint", "ParamError",
    "SimResult", "simulate", "__version__",
]
