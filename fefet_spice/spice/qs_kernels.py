"""Per-cell kernels of the quasi-static network mode (:mod:`.quasistatic`): the channel current with the
contact resistance and its analytic partials, the exact bin advance with its analytic derivative with
respect to the drive, and a preconditioned GMRES that reuses a factorization of an earlier Jacobian.

Same equations as :func:`fefet_spice.model.channel.drain_current` (EKV channel, contact resistance split
between drain and source) and :func:`fefet_spice.spice.cosim.advance_bins` (Merz rates, beta = 1); the
derivatives are those of these expressions, not finite differences.
"""
from __future__ import annotations

import numpy as np

from ..model.channel import drain_current, intrinsic_current, thermal_voltage
from ..model.ferro import EXP_CAP, V_EPS
from ..params import ChannelParams

QUIET = 1e-18
"""Rate x dt below which a bin is left as it is (exp(-x) rounds to 1 below 1.1e-16) [-]."""
LN_CAP = float(np.log(EXP_CAP))
CHANNEL_ITERATIONS = 12
"""Newton iterations on the contact-resistance equation before falling back to the chord solver."""


def _sp_sig(x):
    """softplus(x) = ln(1 + e^x) and its derivative, the logistic sigmoid, overflow-safe."""
    e = np.exp(-np.abs(x))
    sp = np.maximum(x, 0.0) + np.log1p(e)
    sig = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return sp, sig


def intrinsic_partials(ch: ChannelParams, vg, vd, vs, vt):
    """Intrinsic channel current (as :func:`~fefet_spice.model.channel.intrinsic_current`, no ambipolar
    branch) and its partials with respect to V(g), V(d), V(s)."""
    n = ch.n_ss
    phi = thermal_voltage(ch.temperature)
    scale = 2.0 * n * phi
    x = vg - vt
    sp_x, sig_x = _sp_sig(x / scale)
    den = 1.0 + ch.theta * scale * sp_x
    i_s = 2.0 * n * ch.mu0 * ch.cox * (ch.width / ch.length) * phi * phi / den
    di_s = -i_s * ch.theta * sig_x / den
    sp_s, sig_s = _sp_sig((x - n * vs) / scale)
    sp_d, sig_d = _sp_sig((x - n * vd) / scale)
    f_s, f_d = sp_s * sp_s, sp_d * sp_d
    df_s, df_d = 2.0 * sp_s * sig_s / scale, 2.0 * sp_d * sig_d / scale
    cur = i_s * (f_s - f_d) + ch.g_floor * (vd - vs)
    dg = di_s * (f_s - f_d) + i_s * (df_s - df_d)
    dd = i_s * n * df_d + ch.g_floor
    ds = -i_s * n * df_s - ch.g_floor
    return cur, dg, dd, ds, i_s * np.maximum(f_s, f_d)


def channel(ch: ChannelParams, vg, vd, vs, vt, guess=None):
    """Channel current from d to s with the contact resistance ``I = f(Vg, Vd - I R/2, Vs + I R/2)`` and its
    total partials ``dI/dV_x = f_x / (1 + R/2 (f_d - f_s))``, by Newton on I from ``guess`` (default: the
    contact-free current). Stops at the tolerance of :func:`~fefet_spice.model.channel.drain_current` or at
    the rounding error of the two channel terms that cancel near V(d) = V(s)."""
    rh = 0.5 * ch.r_contact
    if ch.amb_ratio > 0.0:  # the ambipolar branch: the chord solver and finite differences
        return _channel_fd(ch, vg, vd, vs, vt)
    cur = intrinsic_current(ch, vg, vd, vs, vt) if guess is None else guess
    for _ in range(CHANNEL_ITERATIONS):
        f, dg, dd, ds, mag = intrinsic_partials(ch, vg, vd - rh * cur, vs + rh * cur, vt)
        g = cur - f
        slope = 1.0 + rh * (dd - ds)
        done = np.abs(g) <= 1e-10 * np.abs(cur) + 1e-21 + 1e-14 * mag
        cur = cur - g / slope
        if done.all():
            break
    else:
        return _channel_fd(ch, vg, vd, vs, vt)
    return cur, dg / slope, dd / slope, ds / slope


def _channel_fd(ch: ChannelParams, vg, vd, vs, vt, fd: float = 1e-5):
    """The chord solver and central differences (general channel, ambipolar branch included)."""
    cur = drain_current(ch, vg, vd, vt, vs)
    rh = 0.5 * ch.r_contact
    vd, vs = vd - rh * cur, vs + rh * cur

    def f(a, b, c):
        return intrinsic_current(ch, a, b, c, vt)

    dg = (f(vg + fd, vd, vs) - f(vg - fd, vd, vs)) / (2 * fd)
    dd = (f(vg, vd + fd, vs) - f(vg, vd - fd, vs)) / (2 * fd)
    ds = (f(vg, vd, vs + fd) - f(vg, vd, vs - fd)) / (2 * fd)
    scale = 1.0 / (1.0 + rh * (dd - ds))
    return cur, dg * scale, dd * scale, ds * scale


class Bins:
    """Exact advance of the bins (C, K) of one device kind (Merz rates, beta = 1, as
    :func:`~fefet_spice.spice.cosim.advance_bins`) under a drive linear over the step, taken at the given
    points, with d(mean s)/d(end drive)."""

    def __init__(self, dev):
        fp = dev.params.ferro
        self.alpha, self.v_imp, self.log_tau0 = fp.alpha, fp.v_imp, np.log(fp.tau0)
        self.ln_up, self.ln_dn = np.log(dev.ea_up)[None, :], np.log(dev.ea_dn)[None, :]
        self.lo_up, self.lo_dn = float(self.ln_up.min()), float(self.ln_dn.min())

    def advance(self, s, fe0, fe1, weights, dt, derivative: bool):
        """Bins after holding ``fe0 + (fe1 - fe0) w`` for ``dt`` at each ``w`` of ``weights`` (in order);
        with ``derivative`` also d(mean s)/d(fe1) per cell (else None). Only cells whose fastest bin has a
        rate x dt above :data:`QUIET` are computed: below it exp(-rate dt) is 1 in double precision."""
        ds = np.zeros(s.shape) if derivative else None
        out = s
        for w, d in zip(weights, dt):
            v = fe0 + (fe1 - fe0) * w - self.v_imp
            up = v > 0
            lnx = np.log(np.maximum(np.abs(v), V_EPS))
            fastest = np.exp(np.minimum(self.alpha * (np.where(up, self.lo_up, self.lo_dn) - lnx), LN_CAP))
            idx = np.flatnonzero((np.log(d) - self.log_tau0 - fastest > np.log(QUIET)) & (v != 0.0))
            if not len(idx):
                continue
            v, up, lnx = v[idx], up[idx], lnx[idx, None]
            e = np.exp(self.alpha * (np.where(up[:, None], self.ln_up, self.ln_dn) - lnx))
            capped = e >= EXP_CAP
            e = np.minimum(e, EXP_CAP)
            tot_dt = np.exp(np.log(d) - self.log_tau0 - e)  # rate x dt
            sign = np.where(up, 1.0, -1.0)[:, None]
            decay = np.exp(-tot_dt)
            gap = (out[idx] - sign) * decay
            if derivative:
                # d(tot dt)/dv = tot dt x alpha e / |v| x sign(v); zero where the exponent is capped or clamped
                dlog = np.where(capped | (np.abs(v) < V_EPS)[:, None], 0.0,
                                self.alpha * e / np.maximum(np.abs(v), V_EPS)[:, None])
                ds[idx] = decay * ds[idx] - gap * tot_dt * dlog * sign * w
            out = out.copy() if out is s else out
            out[idx] = sign + gap
        return out, (None if ds is None else ds.mean(-1))


def _norm(x: np.ndarray) -> float:
    return float(np.sqrt(np.einsum("i,i", x, x)))


def gmres(matvec, b: np.ndarray, precond, rtol: float, max_iter: int):
    """Right-preconditioned GMRES from 0 for ``A x = b``: (x, iterations) once ``|b - A x| <= rtol |b|``,
    (None, max_iter) if that takes more than ``max_iter`` iterations. Classical Gram-Schmidt twice, with
    einsum rather than BLAS (threaded BLAS on vectors of this length stalls on a loaded machine); the small
    least-squares problem by Givens rotations."""
    beta = _norm(b)
    if beta == 0.0:
        return np.zeros_like(b), 0
    basis = np.empty((max_iter + 1, len(b)))
    zs = np.empty((max_iter, len(b)))
    basis[0] = b / beta
    hess = np.zeros((max_iter + 1, max_iter))
    cs, sn, g = np.zeros(max_iter), np.zeros(max_iter), np.zeros(max_iter + 1)
    g[0] = beta
    for j in range(max_iter):
        zs[j] = precond(basis[j])
        w = matvec(zs[j])
        for _ in range(2):
            c = np.einsum("ij,j->i", basis[:j + 1], w)
            w = w - np.einsum("ij,i->j", basis[:j + 1], c)
            hess[:j + 1, j] += c
        h_next = _norm(w)
        col = hess[:, j]
        for i in range(j):
            col[i], col[i + 1] = cs[i] * col[i] + sn[i] * col[i + 1], -sn[i] * col[i] + cs[i] * col[i + 1]
        r = float(np.hypot(col[j], h_next))
        cs[j], sn[j] = col[j] / r, h_next / r
        col[j] = r
        g[j + 1], g[j] = -sn[j] * g[j], cs[j] * g[j]
        if abs(g[j + 1]) <= rtol * beta or h_next <= 1e-300:
            y = np.linalg.solve(np.triu(hess[:j + 1, :j + 1]), g[:j + 1])
            return np.einsum("ij,i->j", zs[:j + 1], y), j + 1
        basis[j + 1] = w / h_next
    return None, max_iter
