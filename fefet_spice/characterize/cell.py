"""Numpy models of the masked (sparsity FeFET off) and half-selected (inhibited) weight FeFET.

Topology B (``../shared/SPEC.md`` section 2): BL -> sparsity FeFET channel -> weight gate. With the
sparsity FeFET off, the weight gate is a floating node charged from BL only through the off conductance
G_off of the sparsity FeFET, and it holds the gate capacitance C_g of the weight FeFET (ferroelectric
linear capacitance in series with the gate-stack capacitance of the channel, the smaller and thus
conservative choice). The node follows ``v <- V_BL + (v - V_BL) exp(-dt G_off / C_g)`` segment by
segment; the weight FeFET is driven with the largest node voltage reached in each segment (an upper
bound of the real drive), so the numpy masked response is an upper bound of leakage-driven switching.
The switching charge 2 Ps A could not even be supplied through G_off, which this bound ignores.
G_off is the erased sparsity FeFET at V_GS = 0: SPL floats during training, and a floating gate
coupled mainly to its own channel follows the channel potential. (Were SPL held at 0 V, a negative BL
pulse would make BL the source and give V_GS = |V| > Vt_off: the masked cell would be written. The
ngspice backend measures the real behaviour.)
Topology A (weight gate on BL, sparsity FeFET in series with the channel) does not block the gate
drive: the numpy model then applies the full pulse (masking fails), which is what ngspice should show.

Half-selected cell (VAU step 1, unselected column): the gate gets the BL pulse while the channel sits at
the inhibit bias V_comp on its DOL side, so the drive across the ferroelectric is ``V - V_comp/2`` (V_comp with the sign of V).
"""
from __future__ import annotations

import math

import numpy as np

from ..model.channel import drain_current
from ..model.simulate import threshold_voltage
from ..params import FeFETParams
from ..waveforms import KINDS, Waveform

EPS0 = 8.8541878128e-12
"""Vacuum permittivity [F/m]."""
_PULSE, _READ = KINDS.index("pulse"), KINDS.index("read")


def gate_capacitance(p: FeFETParams) -> float:
    """Weight-gate node capacitance [F]: C_FE (eps_r eps0 A / t_fe) in series with C_ox W L."""
    c_fe = EPS0 * p.ferro.eps_r * p.ferro.area / p.ferro.t_fe
    c_ox = p.channel.cox * p.channel.width * p.channel.length
    return c_fe * c_ox / (c_fe + c_ox)


def off_conductance(sparsity: FeFETParams, v_ds: float = 0.1, v_g: float = 0.0) -> float:
    """Channel conductance [S] of the sparsity FeFET erased (P = -Ps) at gate ``v_g`` [V] (SPL floating)."""
    vt = threshold_voltage(sparsity, -1.0)
    return float(drain_current(sparsity.channel, np.array([v_g]), np.array([v_ds]), np.array([vt]))[0] / v_ds)


def masked_waveform(wave: Waveform, segments: np.ndarray, g_off: float, c_gate: float) -> Waveform:
    """Copy of ``wave`` whose ``segments`` (bool mask) reach the gate through the G_off-C_g divider;
    reads stay ideal probes of the weight FeFET. Node voltage starts at 0 V."""
    vg = wave.vg.copy()
    tau = c_gate / g_off if g_off > 0 else math.inf
    v = 0.0
    for k in np.flatnonzero(segments):
        if wave.kind[k] == _READ:
            continue
        target = wave.vg[k]
        end = target + (v - target) * math.exp(-wave.dt[k] / tau)
        vg[k] = end if abs(end) >= abs(v) else v  # largest magnitude reached in the segment
        v = end
    return Waveform(vg=vg, dt=wave.dt, vd=wave.vd, kind=wave.kind, pulse=wave.pulse)


def half_selected_waveform(wave: Waveform, segments: np.ndarray, v_comp: float) -> Waveform:
    """Copy of ``wave`` with the channel (drain side) at ``|v_comp|`` [V], with the sign of each pulse,
    during the pulses in ``segments`` (the inhibit bias follows the pulse polarity)."""
    vd = wave.vd.copy()
    sel = segments & (wave.kind == _PULSE)
    vd[sel] = abs(v_comp) * np.sign(wave.vg[sel])
    return Waveform(vg=wave.vg, dt=wave.dt, vd=vd, kind=wave.kind, pulse=wave.pulse)
