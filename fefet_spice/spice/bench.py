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
from .fmt import check_deck, num


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


def cell_pulse_response(weight_params: FeFETParams, sparsity_params: FeFETParams, amplitudes, width: float,
                        *, sparsity_on: bool = True, half_selected: bool = False, topology: str = "B",
                        devices=None, s_init: float = -1.0, options: SolverOptions = SolverOptions(),
                        backend: str = "auto") -> dict:
    """Pulse a single two-FeFET cell in ngspice and read it after every pulse.

    The cell (:mod:`fefet_spice.spice.array`, 1 x 1, SPL floating after a pre-charge) gets one pulse
    per entry of ``amplitudes`` [V] of ``width`` [s] on its BL (topology B: through the sparsity FeFET
    to the weight gate; A: on the weight gate), each followed by ``weight_params.op.t_gap`` at 0 V and
    a read (BL at ``op.v_read_g``, DIL at ``op.v_read_d``, DOL at 0 V) lasting ``op.t_read``.

    Parameters
    ----------
    weight_params, sparsity_params : FeFETParams
        The two devices (their ``op`` sets gaps and reads).
    amplitudes : array_like
        Pulse amplitudes [V] (sign = polarity).
    width : float or array_like
        Pulse width [s], one for all pulses or one per pulse (cycle-to-cycle jitter of the effective
        pulse duration, as ``sigma_c2c`` in the numpy model).
    sparsity_on : bool
        Sparsity FeFET on (kept cell) or off (pruned cell).
    half_selected : bool
        DOL held at the pulse amplitude during each pulse (an unselected column of a VAU column step:
        the weight drive is halved).
    topology : {"B", "A"}
    devices : DeviceSample, optional
        One device's variation (first row used): Ea scale and Vt shift of the weight FeFET.
    s_init : float
        Initial state of every weight domain [-] (-1: fully depressed, G_min).

    Returns
    -------
    dict
        ``g``: conductance read after each pulse, shape (n,) [S]; ``energy_j``: energy delivered by all
        line sources (BL, DIL, DOL) over each pulse and its gap, shape (n,) [J]; ``p_final``: the weight
        FeFET's final net polarization P/Ps [-] (a pruned cell's state cannot be read through its off
        sparsity FeFET in topology B).
    """
    from ..array.schedule import Schedule
    from .array import ArrayConfig, array_deck, initial_state

    amps = np.atleast_1d(np.asarray(amplitudes, dtype=float))
    widths = np.broadcast_to(np.asarray(width, dtype=float), amps.shape)
    op = weight_params.op
    cfg = ArrayConfig(topology=topology)
    n_p = len(amps)
    k = 1 + 3 * n_p
    dt = np.zeros(k)
    bl, dil, dol = np.zeros((1, k)), np.zeros((1, k)), np.zeros((1, k))
    dt[0] = 100e-9
    for p, a in enumerate(amps):
        s = 1 + 3 * p
        dt[s:s + 3] = (widths[p], op.t_gap if op.t_gap > 0 else 1e-9, op.t_read)
        bl[0, s], bl[0, s + 2], dil[0, s + 2] = a, op.v_read_g, op.v_read_d
        if half_selected:
            dol[0, s] = a
    # B: SPL pre-charged to boost the pass level; A: the sparsity FeFET sits in the read path, SPL near 0 V
    sched = Schedule(dt=dt, bl=bl, dil=dil, dol=dol, spl=None, t_pre=dt[0], v_spl_pre=3.0 if topology == "B" else 0.0)
    state = initial_state(1, 1, sparsity_on, cfg, s_weight=s_init)
    wdev = binned_device(weight_params, cfg.bins_weight)
    kea, dvt = 1.0, 0.0
    if devices is not None:
        from ..model.ferro import domain_activation

        kea = float(np.mean(devices.ea_up[0]) / np.mean(domain_activation(weight_params.ferro)[0]))
        dvt = float(devices.vt_shift[0])
    deck = array_deck(wdev, binned_device(sparsity_params, cfg.bins_sparsity), state, sched, cfg, options,
                      save_currents=True, title="two-FeFET cell pulse response")
    if devices is not None:
        lines = deck.split("\n")
        lines = [ln.replace("kea=1.000000000e+00 dvt=0.000000000e+00", f"kea={num(kea)} dvt={num(dvt)}")
                 if ln.startswith("Xw0_0 ") else ln for ln in lines]
        deck = check_deck("\n".join(lines))
    vec = runner.run(deck, backend=backend)
    time = vec["time"]
    t_end = np.cumsum(dt)
    reads = 3 + 3 * np.arange(n_p)
    g = sample(time, vec["i(vdol0)"], t_end[reads] - 0.02 * op.t_read) / op.v_read_d
    sources = {"bl0": ("bl0", "0"), "dil0": ("dil0", "0"), "dol0": ("dol0", "0")}
    e = np.array([energy(time, vec, sources, float(t_end[s - 1]), float(t_end[s + 1]))
                  for s in 1 + 3 * np.arange(n_p)])
    p_final = float(np.mean([vec[f"v(xw0_0.q{i})"][-1] for i in range(wdev.n_bins)]))
    return {"g": g, "energy_j": e, "p_final": p_final}
