"""Numpy fast path for array operations: the compact-model equations vectorized over cells.

Each cell's weight FeFET sees, per schedule segment, the drive ``WG - (DIL + DOL)/2``, where the
weight gate WG follows BL through an *on* sparsity FeFET and stays at 0 V behind an *off* one
(ideal masking, topology B). Domain updates reuse the exact piecewise-constant
:class:`~fefet_spice.model.simulate.DomainEngine`; cells sharing a drive level are updated together.
Reads use :func:`~fefet_spice.model.channel.drain_current` with the contact resistance. Line
resistance is not modelled here (neither during writes nor in :meth:`FastArray.mac`); the ngspice
decks have it, and ``mac_currents`` in :mod:`fefet_spice.spice.array` reports the IR-drop error.

Limits (held to the tightened full deck, see docs/array_spice.md): within 2 % of the conductance range for
pulses of at least :data:`MIN_PULSE_S` and lines of at most :data:`MAX_R_LINE_TOTAL` end to end, with pruned
cells at G_min. Outside, :meth:`FastArray.check` names every case it cannot represent, :meth:`FastArray.apply`
records them in ``limits`` and warns (:class:`FastPathLimitWarning`): a pruned cell left away from G_min
is moved by the leak of its floating gate in the deck (12-29 % of range measured) and stays put here.
"""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from ..presets import nominal

from ..model.channel import drain_current
from ..model.simulate import DeviceSample, DomainEngine, DomainState, sample_devices, threshold_voltage
from ..params import FeFETParams
from .schedule import Schedule

MIN_PULSE_S = 1e-6
"""Shortest write pulse the fast path represents within 2 % of range [s] (100 ns: 7 % measured; the
floating weight gates charge through the sparsity FeFET over nanoseconds, ideal masking assumes at once)."""
MAX_R_LINE_TOTAL = 400.0
"""Largest line resistance along the longest line (per-segment ``r_line`` x cells on it) the fast path
represents within 2 % of range [ohm]: measured 0.9 % at 4x4 and 1.2 % at 8x8 with 50 ohm per segment (200 and
400 ohm), 2.3 % at 16x16 (800 ohm), 6 % at 32x32, 11 % at 64x64 (no IR drop modelled)."""
PRUNED_G_MIN_TOL = 0.02
"""A pruned cell counts as at G_min while its mean polarization is within this of -1 [-]."""


class FastPathLimitWarning(UserWarning):
    """The numpy fast path was applied outside the cases it represents (see :meth:`FastArray.check`)."""


class FastArray:
    """M x N weight FeFETs with a binary sparsity mask.

    Parameters
    ----------
    params : FeFETParams
        Weight FeFET.
    mask : array_like of bool, shape (M, N)
        1 = kept (sparsity FeFET on), 0 = pruned.
    n_domains : int, optional
        Domains per cell (default: the parameters'; pass the SPICE bin count to mirror a deck exactly).
    devices : DeviceSample, optional
        Per-cell variation for M*N devices (default: nominal, identical cells).
    s_init : float or ndarray
        Initial domain states [-] (scalar, (M, N) or (M, N, n_domains)).
    """

    def __init__(self, params: FeFETParams, mask, n_domains: int | None = None,
                 devices: DeviceSample | None = None, s_init=-1.0):
        if n_domains is not None:
            params = replace(params, ferro=replace(params.ferro, n_domains=int(n_domains)))
        self.params = params
        self.mask = np.asarray(mask, dtype=bool)
        m, n = self.mask.shape
        self.devices = devices if devices is not None else sample_devices(nominal(params), 1, np.random.default_rng(0))
        self._per_cell = self.devices.n_devices > 1
        n_dom = params.ferro.n_domains
        s0 = np.asarray(s_init, dtype=float)
        if s0.ndim == 2:
            s0 = s0[..., None]
        self.state = DomainState(np.broadcast_to(s0, (m, n, n_dom)).reshape(m * n, n_dom))
        self._engine = DomainEngine(params.ferro, self.devices)
        self.limits: list[str] = []
        """Cases met by :meth:`apply` that the fast path does not represent (see :meth:`check`)."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape

    @property
    def p_norm(self) -> np.ndarray:
        """Net polarization P/Ps per cell, shape (M, N) [-]."""
        return self.state.s.mean(axis=-1).reshape(self.shape)

    def drives(self, sched: Schedule) -> np.ndarray:
        """Weight FE drive per segment and cell, shape (K, M, N) [V]."""
        wg = np.where(self.mask[None], sched.bl.T[:, :, None], 0.0)
        return wg - 0.5 * (sched.dil.T[:, :, None] + sched.dol.T[:, None, :])

    def check(self, sched: Schedule, r_line: float = 0.0) -> list[str]:
        """Every reason why ``sched`` (with lines of ``r_line`` per segment) is outside what the fast path
        represents; empty when it is within its stated accuracy."""
        out = []
        drives = np.abs(self.drives(sched)).reshape(len(sched.dt), -1)
        active = np.any(np.abs(sched.bl) > 0, axis=0) | np.any(drives > 0, axis=1)
        if np.any(active):
            width = float(np.min(np.asarray(sched.dt)[active]))
            if width < MIN_PULSE_S * (1 - 1e-9):
                out.append(f"pulses of {width:.3g} s are shorter than the {MIN_PULSE_S:.3g} s the fast path "
                           "represents (the floating gates do not follow at once)")
            pruned = ~self.mask.ravel()
            away = pruned & (self.state.s.mean(axis=-1) > -1.0 + PRUNED_G_MIN_TOL)
            if away.any():
                out.append(f"{int(away.sum())} pruned cell(s) are away from G_min: their floating gates leak and the "
                           "deck moves them, the fast path keeps them fixed")
        total = r_line * max(self.shape)
        if total > MAX_R_LINE_TOTAL:
            out.append(f"line resistance {r_line:g} ohm per segment ({total:g} ohm along a line of {max(self.shape)} cells) "
                       f"is above the {MAX_R_LINE_TOTAL:g} ohm per line the fast path represents (no IR drop modelled)")
        return out

    def apply(self, sched: Schedule, r_line: float = 0.0, warn: bool = True,
              rng: np.random.Generator | None = None) -> "FastArray":
        """Advance every cell through ``sched`` (exact for piecewise-constant drive). Cases outside the fast
        path's limits (:meth:`check`, lines of ``r_line`` per segment) are added to ``limits`` and, with
        ``warn``, reported as a :class:`FastPathLimitWarning`. With ``rng`` and ``params.sigma_c2c`` > 0
        every pulse of every cell gets the compact model's cycle-to-cycle jitter of its switching progress
        (a factor exp(sigma N(0, 1)), as :func:`fefet_spice.model.simulate.simulate` draws it)."""
        reasons = self.check(sched, r_line)
        if reasons:
            self.limits += [r for r in reasons if r not in self.limits]
            if warn:
                warnings.warn("fast path outside its limits: " + "; ".join(reasons) + " (use the quasi-static mode)",
                              FastPathLimitWarning, stacklevel=2)
        drives = self.drives(sched).reshape(len(sched.dt), -1)
        s = self.state.s
        sigma = self.params.sigma_c2c if rng is not None else 0.0
        for k, dt in enumerate(sched.dt):
            d = drives[k]
            for level in np.unique(d):
                if level == 0.0:
                    continue
                idx = np.flatnonzero(d == level)
                sub = DomainState(s[idx])
                jitter = np.exp(sigma * rng.standard_normal((idx.size, 1))) if sigma > 0 else None
                if self._per_cell:
                    dev = DeviceSample(self.devices.ea_up[idx], self.devices.ea_dn[idx], self.devices.vt_shift[idx])
                    DomainEngine(self.params.ferro, dev).apply(sub, float(level), float(dt), jitter)
                else:
                    self._engine.apply(sub, float(level), float(dt), jitter)
                s[idx] = sub.s
        return self

    def vt(self) -> np.ndarray:
        """Threshold voltage per cell, shape (M, N) [V]."""
        shift = self.devices.vt_shift.reshape(-1) if self._per_cell else 0.0
        vt = threshold_voltage(self.params, self.state.s.mean(axis=-1), shift)
        return vt.reshape(self.shape)

    def conductance(self, v_read_g: float | None = None, v_read_d: float | None = None) -> np.ndarray:
        """Read conductance Id/V_D per cell, shape (M, N) [S] (pruned cells included)."""
        op = self.params.op
        vg = op.v_read_g if v_read_g is None else v_read_g
        vd = op.v_read_d if v_read_d is None else v_read_d
        return drain_current(self.params.channel, vg, vd, self.vt()) / vd

    def mac(self, v_in, v_read_g: float | None = None) -> np.ndarray:
        """Ideal MAC: column currents sum_i G_ij V_i [A] of kept cells (no line resistance)."""
        op = self.params.op
        vg = op.v_read_g if v_read_g is None else v_read_g
        v_in = np.asarray(v_in, dtype=float)
        g = np.stack([drain_current(self.params.channel, vg, v, self.vt()[i]) for i, v in enumerate(v_in)])
        return np.where(self.mask, g, 0.0).sum(axis=0)
