"""Sparse on-chip training of MSNet on FeFET crossbars driven through a synapse LUT (pure numpy).

Modules: :mod:`.msnet` (network, crossbar matrices), :mod:`.device` (differential LUT-driven pairs),
:mod:`.vau` (row/column operator fits), :mod:`.rules` (update rules), :mod:`.pruning`,
:mod:`.schedule` (the schedule file), :mod:`.trainer` (the loop), :mod:`.data` (data sets),
:mod:`.plots` (figure; imports matplotlib).
"""
from .schedule import Schedule
from .trainer import train

__all__ = ["Schedule", "train"]
