"""fefet_spice: SPICE-level characterization of HZO/MoS2 ferroelectric FETs.

The package root stays light: importing it loads nothing else; its names (and :mod:`fefet_spice.model`)
load numpy on first use. Simulator glue (PySpice), fitting (lmfit) and plotting (matplotlib) load on demand.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"
__all__ = [
    "ChannelParams", "FeFETParams", "FerroParams", "OperatingPoint", "ParamError",
    "SimResult", "simulate", "__version__",
]
_LAZY = {"ChannelParams": "params", "FeFETParams": "params", "FerroParams": "params", "OperatingPoint": "params",
         "ParamError": "params", "SimResult": "model.simulate", "simulate": "model.simulate"}


def __getattr__(name: str):
    """Load the exported names on first use (the command line answers Ctrl-C quietly during start-up)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
