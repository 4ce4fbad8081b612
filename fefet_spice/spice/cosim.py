"""Quasi-static co-simulation of an array operation (issue 18): ngspice solves the line network, numpy the domains.

The full deck (:func:`fefet_spice.spice.array.run_array`) integrates every domain bin as a SPICE state
node with exponential rate B-sources. Here ngspice gets the same deck with every FeFET's polarization
frozen at its initial state (threshold from the instance's ``s0_k``; channels, gate capacitances, line
R and C, floating gates and SPL unchanged), and returns the node voltages every cell's gate, drain and
source see over the whole operation. numpy then advances every bin with the exact solution of
``ds/dt = r_up (1 - s) - r_dn (1 + s)`` over each simulator time step, with the rates of
:func:`fefet_spice.model.ferro.switching_rates` at that cell's own drive ``V_g - (V_d + V_s)/2`` (the actual
waveform of each cell, so the floating gates of pruned cells are treated as they are).

Neglected: the switching charge's feedback on the node voltages and the threshold change during the
operation (its effect on sneak currents and IR drop). Both are second order for a write (switching
currents are nA per cell against gate charging currents); the tests hold the result to the full deck.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..array.schedule import Schedule
from ..model.ferro import switching_rates
from ..params import FeFETParams
from . import runner
from .array import ArrayConfig, ArrayState, _line_nodes, array_deck
from .deck import SolverOptions
from .device import SpiceDevice, binned_device, subckt
from .fmt import check_deck, num


def frozen_subckt(dev: SpiceDevice, contact_caps: bool = True) -> str:
    """The subcircuit of :func:`~fefet_spice.spice.device.subckt` with its polarization frozen at the
    instance's ``s0_k``: no state nodes, rate sources or switching-charge sources; same channel and caps."""
    p, k = dev.params, dev.n_bins
    full = subckt(dev, contact_caps).split("\n")
    mean = "+".join(f"s0_{i}" for i in range(k))
    keep = [ln for ln in full if not ln.startswith(("Bfe ", "Vsns ", "Buup ", "Budn ", "C", "B", "F"))
            or ln.startswith(("Cgd ", "Cgs ", "Cdi ", "Csi ", "Bsm ", "Bss ", "Bsd ", "Bam ", "Bad ", "Bas ", "Bch "))]
    head = [ln for ln in keep if ln.startswith((".subckt", "*"))]
    body = [ln for ln in keep if not ln.startswith((".subckt", "*", ".ends")) and ln]
    vt = f"Bvt vt 0 V={num(p.vt_mid)}+dvt-{num(0.5 * p.mw / k)}*({mean})"
    return "\n".join(head + [vt] + body + [f".ends {dev.subckt_name}"]) + "\n"


def _cell_nodes(cfg: ArrayConfig, m: int, n: int):
    """(gate, drain, source) node names of the weight and the sparsity FeFET of every cell."""
    bl = [_line_nodes("bl", i, n, cfg.r_line) for i in range(m)]
    dil = [_line_nodes("dil", i, n, cfg.r_line) for i in range(m)]
    dol = [_line_nodes("dol", j, m, cfg.r_line) for j in range(n)]
    w, s = {}, {}
    for i in range(m):
        for j in range(n):
            if cfg.topology == "B":
                mid = f"g{i}_{j}"
                s[i, j] = (f"spl{i}", bl[i][j], mid)
                w[i, j] = (mid, dil[i][j], dol[j][i])
            else:
                mid = f"m{i}_{j}"
                s[i, j] = (f"spl{i}", dil[i][j], mid)
                w[i, j] = (bl[i][j], mid, dol[j][i])
    return w, s


def advance_bins(state: np.ndarray, drive: np.ndarray, dt: np.ndarray, dev: SpiceDevice) -> np.ndarray:
    """Exact update of bin states (C, K) under piecewise-constant drives (C, T) held for ``dt`` (T,) [s]."""
    fp = dev.params.ferro
    s = state.copy()
    for t in range(drive.shape[1]):
        r_up, r_dn = switching_rates(drive[:, t:t + 1], dev.ea_up, dev.ea_dn, fp.alpha, fp.tau0, fp.v_imp)
        tot = r_up + r_dn
        moving = tot > 0
        if not moving.any():
            continue
        s_inf = np.where(moving, (r_up - r_dn) / np.where(moving, tot, 1.0), s)
        s = s_inf + (s - s_inf) * np.exp(-tot * dt[t])
    return s


@dataclass(frozen=True)
class CosimRun:
    """Result of a co-simulated operation: final state, the network's time grid, wall-clock split."""

    state: ArrayState
    time: np.ndarray
    n_points: int
    error_estimate: float | None = None
    """Accumulated local error estimate of the weight conductances, largest cell, fraction of the range
    (quasi-static mode; None where not estimated)."""


def run_array_cosim(wparams: FeFETParams, sparams: FeFETParams, state: ArrayState, sched: Schedule,
                    cfg: ArrayConfig = ArrayConfig(), options: SolverOptions = SolverOptions(),
                    backend: str = "auto") -> CosimRun:
    """One operation: ngspice solves the network with frozen polarization, numpy advances the domains."""
    m, n = state.shape
    wdev, sdev = binned_device(wparams, cfg.bins_weight), binned_device(sparams, cfg.bins_sparsity)
    deck = array_deck(wdev, sdev, state, sched, cfg, options, save_currents=True, title="FeFET array, frozen network")
    caps = cfg.r_line > 0.0
    deck = (deck.replace(subckt(wdev, caps), frozen_subckt(wdev, caps))
            .replace(subckt(sdev, caps), frozen_subckt(sdev, caps)))
    wn, sn = _cell_nodes(cfg, m, n)
    nodes = sorted({x for t in (*wn.values(), *sn.values()) for x in t})
    lines = [ln for ln in deck.split("\n") if not ln.startswith(".save")]
    save = [f"v({x})" for x in nodes]
    lines[-2:-2] = [".save " + " ".join(save[k:k + 8]) for k in range(0, len(save), 8)]
    vec = runner.run(check_deck("\n".join(lines)), backend=backend)
    time = vec["time"]
    dt = np.diff(time)

    def drives(nmap):
        g = np.array([vec[f"v({nmap[c][0]})"] for c in sorted(nmap)])
        d = np.array([vec[f"v({nmap[c][1]})"] for c in sorted(nmap)])
        s = np.array([vec[f"v({nmap[c][2]})"] for c in sorted(nmap)])
        fe = g - 0.5 * (d + s)
        return 0.5 * (fe[:, 1:] + fe[:, :-1])

    new = state.copy()
    new.weight[:] = advance_bins(state.weight.reshape(m * n, -1), drives(wn), dt, wdev).reshape(new.weight.shape)
    new.sparsity[:] = advance_bins(state.sparsity.reshape(m * n, -1), drives(sn), dt, sdev).reshape(new.sparsity.shape)
    return CosimRun(state=new, time=time, n_points=len(time))
