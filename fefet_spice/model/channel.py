"""Charge-based n-type 2D (MoS2) FET channel, EKV-style (SPEC 1.2). Pure numpy.

The same expressions are written as a SPICE B-source by :mod:`fefet_spice.spice`.

References
----------
.. [1] C. C. Enz, F. Krummenacher, E. A. Vittoz, "An analytical MOS transistor model valid in all regions
   of operation...", Analog Integr. Circ. Sig. Process. 8, 83 (1995). DOI 10.1007/BF01239381
.. [2] G. Jiang et al., "A compact model for 2D FETs" (charge-based form), and S. Radisavljevic et al.,
   "Single-layer MoS2 transistors", Nat. Nanotechnol. 6, 147 (2011). DOI 10.1038/nnano.2010.279
"""
from __future__ import annotations

import numpy as np

from ..params import ChannelParams

K_B_OVER_Q = 8.617333262e-5  # [V/K]


def thermal_voltage(temperature: float) -> float:
    """kT/q [V] at ``temperature`` [K]."""
    return K_B_OVER_Q * temperature


def softplus(x):
    """ln(1 + exp(x)), overflow-safe."""
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _interp(x, scale):
    return softplus(x / scale) ** 2


def specific_current(ch: ChannelParams, vg_minus_vt):
    """I_s [A] = 2 n mu_eff C_ox (W/L) phi_t^2 with mobility degradation."""
    phi = thermal_voltage(ch.temperature)
    scale = 2.0 * ch.n_ss * phi
    mu_eff = ch.mu0 / (1.0 + ch.theta * scale * softplus(np.asarray(vg_minus_vt) / scale))
    return 2.0 * ch.n_ss * mu_eff * ch.cox * (ch.width / ch.length) * phi * phi


def intrinsic_current(ch: ChannelParams, vg, vd, vs, vt):
    """Drain current [A] of the intrinsic channel (no contact resistance), positive into the drain.

    Parameters
    ----------
    ch : ChannelParams
    vg, vd, vs : array_like
        Gate, drain and source voltages [V] (broadcast).
    vt : array_like
        Threshold voltage [V] (includes the ferroelectric shift).

    Returns
    -------
    ndarray
        ``I_s [F(Vg-Vt-n Vs) - F(Vg-Vt-n Vd)] + g_floor (Vd - Vs)`` plus the optional ambipolar branch.
    """
    vg, vd, vs, vt = (np.asarray(a, dtype=float) for a in (vg, vd, vs, vt))
    n = ch.n_ss
    scale = 2.0 * n * thermal_voltage(ch.temperature)
    i_s = specific_current(ch, vg - vt)
    ids = i_s * (_interp(vg - vt - n * vs, scale) - _interp(vg - vt - n * vd, scale))
    if ch.amb_ratio > 0.0:
        i_sp = ch.amb_ratio * specific_current(ch, ch.vt_amb - vg)
        ids = ids + i_sp * (_interp(ch.vt_amb - vg + n * vd, scale) - _interp(ch.vt_amb - vg + n * vs, scale))
    return ids + ch.g_floor * (vd - vs)


def drain_current(ch: ChannelParams, vg, vd, vt, vs=0.0, iterations: int = 12):
    """Drain current [A] with the series contact resistance (half at source, half at drain).

    Solves ``g(I) = I - f(Vg, Vd - I R/2, Vs + I R/2) = 0`` by chord iterations with the finite-difference
    slope at the contact-free current. ``f`` falls as ``I`` grows, so ``g' >= 1`` and the iteration is monotone and robust.
    """
    vg, vd, vt, vs = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (vg, vd, vt, vs)))
    current = intrinsic_current(ch, vg, vd, vs, vt)
    half_r = 0.5 * ch.r_contact
    if half_r == 0.0:
        return current

    def residual(i):
        return i - intrinsic_current(ch, vg, vd - i * half_r, vs + i * half_r, vt)

    g = residual(current)
    step = 1e-6 * np.abs(current) + 1e-18
    slope = np.maximum((residual(current + step) - g) / step, 1.0)  # chord slope, reused
    for _ in range(iterations):
        current = current - g / slope
        g = residual(current)
        if np.all(np.abs(g) <= 1e-10 * np.abs(current) + 1e-21):
            break
    return current


TABLE_STEP = 2.5e-4
"""Node spacing [V] of the tabulated read current: relative error below 1e-9, the solver's own tolerance."""
TABLE_MIN_POINTS = 8
"""A table is built only when there are more than this many thresholds per node (else solve directly)."""


class ReadTable:
    """``ln|I|`` at one gate and drain bias (grounded source) tabulated on a uniform Vt grid of ``TABLE_STEP``.

    At fixed bias the read current is a smooth, monotone function of Vt alone: it is solved exactly
    (:func:`drain_current`) at the nodes covering ``[lo, hi]`` and interpolated with Catmull-Rom cubics
    (error O(h^3): below 1e-9 relative). :meth:`evaluate` works in place on caller-owned buffers, so a
    batch of reads is evaluated block by block without temporaries. ``valid`` is False when the current
    changes sign on the grid (then solve directly).
    """

    def __init__(self, ch: ChannelParams, vg: float, vd: float, lo: float, hi: float):
        self.lo = float(lo)
        self.n = int(np.ceil((float(hi) - self.lo) / TABLE_STEP)) + 2  # intervals; one spare beyond hi
        node_i = drain_current(ch, vg, vd, self.lo + TABLE_STEP * np.arange(-1, self.n + 2))
        self.sign = float(np.sign(node_i[0]))
        self.valid = self.sign != 0 and bool(np.all(np.sign(node_i) == self.sign))
        if not self.valid:
            return
        y = np.log(self.sign * node_i)
        y0, y1, y2, y3 = y[:-3], y[1:-2], y[2:-1], y[3:]
        self.coef = (0.5 * (y3 - y0) + 1.5 * (y1 - y2), y0 - 2.5 * y1 + 2.0 * y2 - 0.5 * y3,
                     0.5 * (y2 - y0), y1.copy())  # Horner order: t^3, t^2, t, 1

    def evaluate(self, vt: np.ndarray, out: np.ndarray, index: np.ndarray, work: np.ndarray) -> np.ndarray:
        """Currents [A] at thresholds ``vt`` written to ``out``; ``vt`` is overwritten (it becomes the
        fractional grid position), ``index`` (intp) and ``work`` (float) are scratch of the same shape."""
        np.subtract(vt, self.lo, out=vt)
        vt *= 1.0 / TABLE_STEP
        np.floor(vt, out=out)
        np.copyto(index, out, casting="unsafe")
        vt -= out
        c3, c2, c1, c0 = self.coef
        np.take(c3, index, out=out, mode="clip")
        for c in (c2, c1, c0):
            out *= vt
            out += np.take(c, index, out=work, mode="clip")
        np.exp(out, out=out)
        if self.sign < 0:
            np.negative(out, out=out)
        return out


def read_current(ch: ChannelParams, vg: float, vd: float, vt) -> np.ndarray:
    """Drain current [A] at one gate and drain bias for many thresholds ``vt`` [V] (grounded source).

    Large batches (a read of every device after every pulse) go through a :class:`ReadTable` spanning
    the batch; small batches are solved directly with :func:`drain_current`.
    """
    vt = np.array(vt, dtype=float)
    lo, hi = (float(vt.min()), float(vt.max())) if vt.size else (0.0, 0.0)
    if not np.isfinite(hi - lo) or vt.size <= TABLE_MIN_POINTS * (int(np.ceil((hi - lo) / TABLE_STEP)) + 4):
        return drain_current(ch, vg, vd, vt)
    table = ReadTable(ch, vg, vd, lo, hi)
    if not table.valid:
        return drain_current(ch, vg, vd, vt)
    return table.evaluate(vt, np.empty_like(vt), np.empty(vt.shape, dtype=np.intp), np.empty_like(vt))


def subthreshold_swing(ch: ChannelParams) -> float:
    """Ideal subthreshold swing [V/decade] = n ln(10) kT/q."""
    return ch.n_ss * np.log(10.0) * thermal_voltage(ch.temperature)
