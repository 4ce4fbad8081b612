"""Measurements grouped for the fit stages, plus the model evaluated on the same protocols."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from ..model.channel import drain_current
from ..model.simulate import simulate
from ..params import FeFETParams
from ..waveforms import Waveform
from . import protocol

I_MIN = 1e-13
"""Smallest |current| [A] used in log residuals (below: instrument floor and quantization)."""
BRANCH_FRACTION = 0.55
"""Channel stage: use the up branch below, and the down branch above, this fraction of +/-V_max."""


@dataclass
class Run:
    """One measurement ready to simulate."""

    source: str
    kind: str
    wave: Waveform
    rows: np.ndarray
    vd: float
    x: np.ndarray
    """Abscissa for plots: vg (idvg), vd (idvd) or pulse number (pulse)."""
    y: np.ndarray
    """Measured current [A] (idvg, idvd) or conductance [S] (pulse)."""
    ok: np.ndarray
    """Points usable in the residual (inside resolution and compliance)."""
    meta: dict = field(default_factory=dict)


@dataclass
class FitData:
    sweeps: list[Run]
    idvd: list[Run]
    pulses: list[Run]
    dc_dwell: float

    @property
    def runs(self) -> list[Run]:
        return self.sweeps + self.idvd + self.pulses


def _usable(i, compliance) -> np.ndarray:
    a = np.abs(i)
    lim = 0.99 * compliance if isinstance(compliance, float) else np.inf
    return (a >= I_MIN) & (a < lim)


def prepare(measurements) -> FitData:
    """Group measurements and build their waveforms; raises DataError when a stage has no data."""
    sweeps, idvd, pulses, dwells = [], [], [], []
    for m in measurements:
        wave, rows = protocol.build(m)
        vd = float(m.meta("vd", 0.1)) if isinstance(m.meta("vd"), float) else 0.1
        if m.kind == "idvg":
            sweeps.append(Run(m.source, "idvg", wave, rows, vd, np.asarray(m["vg"]), np.asarray(m["id"]),
                              _usable(m["id"], m.meta("compliance")), dict(m.metadata)))
            dwells.append(float(np.median(wave.dt[rows])))
        elif m.kind == "idvd":
            idvd.append(Run(m.source, "idvd", wave, rows, vd, np.asarray(m["vd"]), np.asarray(m["id"]),
                            _usable(m["id"], m.meta("compliance")), dict(m.metadata)))
        else:
            pulses.append(Run(m.source, "pulse", wave, rows, vd, np.asarray(m["pulse"]), np.asarray(m["g"]),
                              np.ones(len(m), bool), dict(m.metadata)))
    if not sweeps:
        raise DataError("fit: no Id-Vg sweep among the measurements (needed for the channel and loop stages)")
    return FitData(sweeps, idvd, pulses, float(np.median(dwells)))


def channel_points(data: FitData):
    """Points with a known saturated polarization state: (vg, vd, i, state) with state +1 = erased (Vt_hi).

    Returns ``(vg, vd, i, state, group)``; ``group`` is the run index of each point (>= 0: an Id-Vg
    branch, < 0: an Id-Vd curve).

    Up branches of the widest sweeps below ``BRANCH_FRACTION * V_max`` (after a negative reset: erased),
    down branches above ``-BRANCH_FRACTION * V_max`` (programmed), and Id-Vd curves after a reset.
    """
    vmax = max(float(np.max(np.abs(r.x))) for r in data.sweeps)
    out = []
    for r in data.sweeps:
        if float(np.max(r.x)) < 0.999 * vmax or float(r.meta.get("reset_v", -1.0)) >= 0:
            continue
        k = int(np.argmax(r.x))
        if np.any(np.diff(r.x[: k + 1]) < 0) or np.any(np.diff(r.x[k:]) > 0):
            continue  # minor loops: the state after the first turning point is not saturated
        up = np.zeros(len(r.x), bool)
        up[:k] = r.x[:k] < BRANCH_FRACTION * vmax
        dn = np.zeros(len(r.x), bool)
        dn[k:] = r.x[k:] > -BRANCH_FRACTION * vmax
        for mask, state in ((up, 1.0), (dn, -1.0)):
            sel = mask & r.ok
            out.append((r.x[sel], np.full(sel.sum(), r.vd), r.y[sel], np.full(sel.sum(), state),
                        np.full(sel.sum(), len(out))))
    for r in data.idvd:
        state = 1.0 if float(r.meta.get("reset_v", -1.0)) < 0 else -1.0
        vg = float(r.meta["vg"])
        sel = r.ok
        out.append((np.full(sel.sum(), vg), r.x[sel], r.y[sel], np.full(sel.sum(), state),
                    np.full(sel.sum(), -1 - len(out))))
    vg, vd, i, st, grp = (np.concatenate([o[j] for o in out]) for j in range(5))
    if len(vg) < 10:
        raise DataError("fit: too few usable Id-Vg points for the channel stage")
    return vg, vd, i, st, grp


def channel_current(params: FeFETParams, vt_hi: float, vt_lo: float, vg, vd, state) -> np.ndarray:
    """Model current [A] with the threshold of each point's state."""
    vt = np.where(state > 0, vt_hi, vt_lo)
    return drain_current(params.channel, vg, vd, vt)


def simulate_run(params: FeFETParams, run: Run) -> np.ndarray:
    """Model current [A] (sweeps) or conductance [S] (pulses) at the data rows of ``run``."""
    res = simulate(params, run.wave, vd=run.vd, n_devices=1, seed=0)
    cur = res.id[0, run.rows]
    return cur / run.vd if run.kind == "pulse" else cur


def predict(params: FeFETParams, m) -> np.ndarray:
    """Model prediction at the rows of measurement ``m``: current [A] (sweeps) or conductance [S] (pulses)."""
    wave, rows = protocol.build(m)
    vd = float(m.meta("vd", 0.1))
    run = Run(m.source, m.kind, wave, rows, vd, np.arange(len(m)), np.zeros(len(m)), np.ones(len(m), bool))
    return simulate_run(params, run)
