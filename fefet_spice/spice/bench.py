"""Single-FeFET testbenches: any piecewise-constant waveform (pulse trains, DC sweeps) in ngspice.

The same :class:`~fefet_spice.waveforms.Waveform` drives :func:`fefet_spice.model.simulate`, so the
two can be compared segment by segment.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import FeFETParams
from ..waveforms import Waveform
from . import runner
from .deck import SolverOptions, energy, pwl, sample, vsource
from .device import DEFAULT_BINS, SpiceDevice, binned_device, instance, subckt
from .fmt import check_deck


@dataclass(frozen=True)
class DeviceRun:
    """ngspice result of one FeFET under a waveform, sampled at the end of each segment."""

    t: np.ndarray
    """End time of each segment [s]."""
    id: np.ndarray
    """Drain current at the end of each segment [A] (positive into the drain)."""
    p_norm: np.ndarray
    """Mean domain state P/Ps at the end of each segment [-]."""
    g_after_pulse: np.ndarray | None
    """Conductance Id/V_D of the last read after each pulse [S] (None without reads)."""
    energy_per_pulse: np.ndarray | None
    """Energy delivered by the gate and drain sources over each pulse and its gap [J]."""
    state: np.ndarray
    """Final bin states [-]."""
    vectors: dict
    """All saved ngspice vectors."""


def device_deck(dev: SpiceDevice, waveform: Waveform, vd: float = 0.1, state=None,
                options: SolverOptions = SolverOptions(), title: str = "FeFET testbench") -> str:
    """A runnable deck: ``dev`` with its gate and drain on PWL sources following ``waveform``."""
    vd_seg = np.where(np.isnan(waveform.vd), vd, waveform.vd)
    lines = [f"* {title}: {dev.subckt_name}, {len(waveform)} segments (fefet_spice.spice.bench)",
             subckt(dev).rstrip("\n"),
             vsource("g", "g", "0", pwl(waveform.vg, waveform.dt, options.t_edge)),
             vsource("d", "d", "0", pwl(vd_seg, waveform.dt, options.t_edge)),
             instance("1", "d", "g", "0", dev, state)]
    lines += options.lines(float(waveform.t_end[-1]), float(waveform.dt.min()))
    saved = " ".join(f"v(x1.q{i})" for i in range(dev.n_bins))
    lines += [f".save v(g) v(d) i(vg) i(vd) {saved}", ".end"]
    return check_deck("\n".join(lines) + "\n")


def run_device(params: FeFETParams, waveform: Waveform, vd: float = 0.1, n_bins: int = DEFAULT_BINS,
               state=None, options: SolverOptions = SolverOptions(), backend: str = "auto") -> DeviceRun:
    """Simulate one FeFET in ngspice under ``waveform`` (drain default ``vd`` [V], source grounded)."""
    dev = binned_device(params, n_bins)
    vec = runner.run(device_deck(dev, waveform, vd, state, options), backend=backend)
    time = vec["time"]
    t_end = waveform.t_end
    t_at = t_end - 0.02 * waveform.dt
    qs = np.array([vec[f"v(x1.q{i})"] for i in range(dev.n_bins)])
    p_norm = sample(time, qs.mean(axis=0), t_at)
    i_d = -sample(time, vec["i(vd)"], t_at)
    vd_seg = np.where(np.isnan(waveform.vd), vd, waveform.vd)
    g_after = e_pulse = None
    n_p = waveform.n_pulses
    reads = waveform.mask("read") & (waveform.pulse >= 0)
    if n_p:
        idx = np.flatnonzero(reads)
        if len(idx):
            last = np.full(n_p, -1)
            last[waveform.pulse[idx]] = idx
            if np.all(last >= 0):
                g_after = i_d[last] / vd_seg[last]
        starts = t_end - waveform.dt
        e_pulse = np.zeros(n_p)
        for k in range(n_p):
            seg = np.flatnonzero((waveform.pulse == k) & ~waveform.mask("read"))
            e_pulse[k] = energy(time, vec, {"g": ("g", "0"), "d": ("d", "0")},
                                float(starts[seg[0]]), float(t_end[seg[-1]]))
    return DeviceRun(t=t_end, id=i_d, p_norm=p_norm, g_after_pulse=g_after, energy_per_pulse=e_pulse,
                     state=qs[:, -1], vectors=vec)
