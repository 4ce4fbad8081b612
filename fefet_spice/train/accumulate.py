"""Digital accumulation of sub-pulse VAU updates (mixed-precision on-chip training).

A small on-chip step (a fraction of a pulse per update) rounds to no pulse at all when every update is
rounded on its own: the array then never moves. Mixed-precision training (Nandakumar et al. 2020,
DOI 10.3389/fnins.2020.00406) keeps the sub-pulse part in a digital register and fires whole pulses
when it crosses one, so the array follows the *sum* of the small updates. Two register layouts:

* :class:`LineRegisters` (``accumulate="lines"``): one register per row line and per column line of
  each array (G+ and G-): ``2 (M + N)`` registers per layer (MSNet: 2 x 183 = 366 numbers for 1,060
  weights). Every update's masked VAU fit ``r, c`` (continuous, in pulses) is added to the registers,
  the registers are rounded (best gauge shift, :func:`.rules.round_operators`) and those whole pulses
  fire in the usual N + 1 steps; the rest stays. The per-cell sum ``r_i + c_j`` of what stays is the
  rounding residual, so a cell receives, over time, the sum of its fitted updates to within one pulse
  per line. Cost per update: M + N additions and roundings per array, no per-weight memory, no index.
* :class:`WeightRegisters` (``accumulate="weight-device"``, the default, or ``"weight"``): one register
  per weight (M x N; MSNet: 1,060 numbers, as many as the weights, i.e. a digital copy of the update at
  register precision beside the array). The weight-direction fitted update ``S ⊙ (r 1ᵀ + 1 cᵀ)``
  accumulates per cell; a cell whose register is closer to a pulse's mean change *at the cell's own
  state* (the LUT's state-dependent mean step, as the ``cell`` rule chooses its count) than to no pulse
  fires that count, one cell-by-cell write each (counted as one operation per firing cell, as the array
  cannot apply an arbitrary per-cell pattern in N + 1 steps), and the register keeps what the chosen
  count does not do on average. Cost per update: M x N additions and comparisons against the LUT, plus
  a write per firing cell. ``accumulate="weight"`` (the previous default; its meaning is unchanged)
  fires whenever the register reaches one *nominal* pulse and subtracts a nominal pulse per fire: on a
  nonlinear device a pulse does less (near the top of the range) or more than that, and the difference
  is lost, so the weights random-walk at the end of training (validation accuracy swings 3-5 points
  from epoch to epoch at the final step).

Pruned cells: their registers are cleared (weight registers) or their lines are fitted only over
active cells (line registers); pruned cells never receive a pulse either way (:class:`.device.DeviceLayer`).
"""
from __future__ import annotations

import numpy as np

from . import vau


class LineRegisters:
    """Row and column registers of the G+ (index 0) and G- (index 1) arrays of one layer [pulses]."""

    def __init__(self, shape: tuple[int, int], clip: float):
        m, n = shape
        self.r = np.zeros((2, m))
        self.c = np.zeros((2, n))
        self.clip = float(clip)
        """Register bound (the operator clip): a register never holds more than this [pulses]."""

    @property
    def size(self) -> int:
        return int(self.r.size + self.c.size)

    def add_and_fire(self, side: int, r: np.ndarray, c: np.ndarray, sel: np.ndarray, rounder) -> tuple:
        """Add the fitted operators of one array, round the registers with ``rounder(d, sel, r, c)``,
        keep what was not fired. Returns the integer row and column operators to fire."""
        ar = np.clip(self.r[side] + r, -self.clip, self.clip)
        ac = np.clip(self.c[side] + c, -self.clip, self.clip)
        rr, cc = rounder(vau.compose(ar, ac), sel, ar, ac)
        self.r[side], self.c[side] = ar - rr, ac - cc
        return rr, cc


class WeightRegisters:
    """One register per weight (weight direction) of one layer [pulses]."""

    def __init__(self, shape: tuple[int, int], clip: float, device_aware: bool = True):
        self.a = np.zeros(shape)
        self.clip = float(clip)
        self.device_aware = bool(device_aware)
        """Fire the count whose mean LUT change at the cell's state is closest (True) or whole nominal
        pulses (False: ``accumulate="weight"``)."""

    @property
    def size(self) -> int:
        return int(self.a.size)

    def add_and_fire(self, fitted: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Nominal firing (``accumulate="weight"``): add the fitted weight-direction update on active cells;
        return the whole pulses to fire per cell (toward zero) and keep the remainder. Pruned cells'
        registers are cleared."""
        a = np.where(mask, np.clip(self.a + fitted, -self.clip, self.clip), 0.0)
        fire = np.trunc(a).astype(np.int64)
        self.a = a - fire
        return fire

    def add_and_fire_device(self, layer, fitted: np.ndarray, max_pulses: int) -> np.ndarray:
        """Device-aware firing (``accumulate="weight-device"``): add ``fitted`` [nominal pulses] on
        ``layer``'s active cells; per cell, the count (<= ``max_pulses``) whose mean LUT path from the
        cell's present state lands closest to the register (:meth:`.device.DeviceLayer.cell_counts`); the
        register keeps what that count does not do on average. Pruned cells' registers are cleared.
        Returns the counts to fire."""
        mask = layer.mask
        want = np.where(mask, self.a + fitted, 0.0)
        counts = layer.cell_counts(want * layer.pulse_w, max_pulses)
        done = layer.expected_change(counts) / layer.pulse_w
        self.a = np.where(mask, np.clip(want - done, -self.clip, self.clip), 0.0)
        return counts
