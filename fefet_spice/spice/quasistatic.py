"""Quasi-static network mode for array operations (issue 18): SPICE electrical fidelity at 64x64 in minutes.

Within a schedule segment every line voltage is constant, and the network's RC constants (50 ohm x
0.2 fF lines, channel x gate capacitance) are far below a pulse, so every node connected to a source
sits at the solution of the resistive network, while floating nodes (floating SPL after the pre-charge,
the weight gate of a pruned cell behind an off sparsity FeFET, floating DILs) keep their charge and follow
their capacitive coupling, leak and off-channel currents. Both follow from implicit steps of the network
of :func:`fefet_spice.spice.array.array_deck` (:mod:`.qs_network`: same elements, values and channel
equations, :func:`fefet_spice.model.channel.intrinsic_current`): ``C (v - v_hist) / h_eff + G v +
I_channel(v) + I_switch(v) = 0`` (backward Euler for the first step after a kink of the sources, variable-step
BDF2 after it), solved by Newton with a sparse LU (SuperLU) over all nodes at once.

Every domain bin advances exactly (:func:`fefet_spice.spice.cosim.advance_bins`) under the drive
``V_g - (V_d + V_s)/2``, taken linear over the step from its start to its end value (the rates are
exponential in the drive); the threshold of every channel follows the new bin states and the switching
charge ``A Ps d(mean s)`` enters the gate/drain/source charge balance (as the deck's ``Fpd``/``Fps``
sources), both inside the Newton iteration. PWL edges are stepped through as the deck's linear ramps (edges
under 2 % of their segment are taken at their midpoint).

Error control: every step's local error is estimated from the distance of the solution to the polynomial
predictor through the last points (node voltages, :attr:`QSOptions.v_lte`; domain states through the drive's
estimate times the step's sensitivity d(mean s)/d(drive), :attr:`QSOptions.rtol`/``atol``); a step above
tolerance is redone shorter, the next step length follows the error ratio. The accumulated state
estimate is returned as ``error_estimate`` (it covers local errors; errors carried forward by the charge of
floating nodes are bounded by the voltage tolerance, not counted in it: measured up to 10x below the actual
difference to the tightened deck, see docs/array_spice.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..array.schedule import Schedule
from ..errors import ParamError, SimulatorError
from ..model.channel import drain_current, intrinsic_current
from ..params import FeFETParams
from . import qs_network
from .array import ArrayConfig, ArrayState
from .cosim import CosimRun, advance_bins
from .deck import SolverOptions
from .device import binned_device
from .qs_network import FeFETSet, Network
from .qs_steps import Integrator, intervals


@dataclass(frozen=True)
class QSOptions:
    """Step grid and Newton controls of the quasi-static mode."""

    rtol: float = 5e-3
    """Error control: the local error estimate of every step, per cell, must stay below ``atol + rtol x`` the
    cell's switching in that step (mean polarization, range 2) [-]."""
    atol: float = 2e-6
    """Absolute part of the per-step tolerance [-] (mean polarization)."""
    first_step: float = 0.03
    """First step after a kink of the sources (edge start or end), as a fraction of the interval [-]."""
    v_lte: float = 0.05
    """Error control on the node voltages: local truncation error estimate of every free node [V] (the
    charge of floating nodes carries an error forward into later switching)."""
    max_growth: float = 10.0
    """Largest factor between consecutive step lengths [-]."""
    max_steps: int = 2000
    """Steps per interval (edge or hold) before the run stops with an error."""
    hold_fracs: tuple[float, ...] | None = None
    """Fixed grid instead of error control: ends of the steps within each edge and each hold, as fractions
    of its length (increasing, last 1). The error estimate is still reported."""
    v_tol: float = 1e-4
    """Newton stops when no node voltage moves more than this [V] (0.1 mV: far below the step tolerance
    ``v_lte``; 28 % fewer iterations than 1 µV, the same 0.17 % from the deck at 4x4, 10 ns, 200 ohm)."""
    max_newton: int = 60
    """Newton iterations per step before giving up."""
    v_limit: float = 1.0
    """Largest node voltage change per Newton iteration [V] (limits overshoot of exponential currents)."""
    contraction: float = 0.3
    """Modified Newton: a factorization is reused (across iterations, and from the last step of the same
    phase: same source values and step length) while each correction is below this fraction of the
    previous one [-]."""
    max_stale: int = 12
    """Iterations on one factorization before it is renewed anyway."""
    switching_feedback: bool = True
    """Include the switching charge in the node charge balance."""


LU_CACHE = 24
"""Factorizations kept for reuse, one per phase (source values, step length), oldest dropped first."""
FD_V = 1e-5
"""Finite-difference step for channel current derivatives [V] (central differences)."""
SW_STAMP = np.outer([1.0, -0.5, -0.5], [1.0, -0.5, -0.5]).reshape(9, 1)
"""Jacobian stamp of the switching current on (gate, drain, source) x (gate, drain, source): the current
enters the gate and leaves half through drain and half through source, driven by g - (d + s)/2."""
GAUSS = (0.5 - 0.5 / np.sqrt(3.0), 0.5 + 0.5 / np.sqrt(3.0))
"""Within a step the drive is taken linear from its start to its end value (the domain rates are exponential
in the drive: its value at the step's end alone overstates the switching); the bins advance over two halves
held at the drive of the two Gauss-Legendre points."""
FD_DRIVE = 1e-4
"""Finite-difference step for the derivative of the switched fraction with respect to the drive [V]."""


def _channel(fs: FeFETSet, v: np.ndarray, vt: np.ndarray, derivatives: bool = True):
    """Channel current from d to s with the contact resistance, and its derivatives with respect to V(g), V(d),
    V(s). The deck's internal nodes are eliminated per device: ``I = f(Vg, Vd - I R/2, Vs + I R/2)`` is solved by
    :func:`~fefet_spice.model.channel.drain_current`, and with the partials ``f_g, f_d, f_s`` of
    :func:`~fefet_spice.model.channel.intrinsic_current` at the internal voltages,
    ``dI/dV_x = f_x / (1 + R/2 (f_d - f_s))``."""
    ch = fs.dev.params.channel
    vg, vd, vs = v[fs.g], v[fs.d], v[fs.s]
    cur = drain_current(ch, vg, vd, vt, vs)
    if not derivatives:
        return cur, None, None, None
    rh = 0.5 * ch.r_contact
    vd, vs = vd - rh * cur, vs + rh * cur

    def f(a, b, c):
        return intrinsic_current(ch, a, b, c, vt)

    dg = (f(vg + FD_V, vd, vs) - f(vg - FD_V, vd, vs)) / (2 * FD_V)
    dd = (f(vg, vd + FD_V, vs) - f(vg, vd - FD_V, vs)) / (2 * FD_V)
    ds = (f(vg, vd, vs + FD_V) - f(vg, vd, vs - FD_V)) / (2 * FD_V)
    scale = 1.0 / (1.0 + rh * (dd - ds))
    return cur, dg * scale, dd * scale, ds * scale


def _vt(fs: FeFETSet, s: np.ndarray) -> np.ndarray:
    p = fs.dev.params
    return p.vt_mid - 0.5 * p.mw * s.mean(axis=-1)


class _Stepper:
    """Implicit steps of one network; unknowns are the non-fixed nodes."""

    def __init__(self, net: Network, qs: QSOptions):
        self.net, self.qs = net, qs
        free = np.ones(net.n_nodes, bool)
        free[net.fixed] = False
        self.free = np.flatnonzero(free)
        self.red = np.full(net.n_nodes, -1)
        self.red[self.free] = np.arange(len(self.free))
        self.n_solves = 0
        self.n_newton = 0
        self.n_factor = 0
        self.n_reject = 0
        self._lu: dict[tuple, object] = {}
        self._stamps = [self._stamp_index(fs) for fs in (net.weight, net.sparsity)]

    def _stamp_index(self, fs: FeFETSet):
        """Row/column index arrays of the channel (2 x 3) and switching (3 x 3) Jacobian stamps."""
        ch_r = np.stack([fs.d, fs.d, fs.d, fs.s, fs.s, fs.s])
        ch_c = np.stack([fs.g, fs.d, fs.s, fs.g, fs.d, fs.s])
        ports = np.stack([fs.g, fs.d, fs.s])
        sw_r = np.repeat(ports, 3, axis=0)
        sw_c = np.tile(ports, (3, 1))
        return ch_r, ch_c, sw_r, sw_c

    def _switch(self, fs: FeFETSet, s_old: np.ndarray, fe0: np.ndarray, v: np.ndarray, h: float, dq: bool = True):
        """New bin states under a drive going linearly from ``fe0`` (start of the step) to the drive at ``v``
        (end of the step), and d(mean s)/d(end drive) per FeFET (None unless ``dq``)."""
        fe1 = v[fs.g] - 0.5 * (v[fs.d] + v[fs.s])
        w = np.array(GAUSS)
        dt = np.full(2, 0.5 * h)
        drive = fe0[:, None] + (fe1 - fe0)[:, None] * w[None, :]
        s_new = advance_bins(s_old, drive, dt, fs.dev)
        if not dq:
            return s_new, None, fe1
        if not self.qs.switching_feedback:
            return s_new, np.zeros(len(fe1)), fe1
        s_hi = advance_bins(s_old, drive + FD_DRIVE * w[None, :], dt, fs.dev)
        return s_new, (s_hi.mean(-1) - s_new.mean(-1)) / FD_DRIVE, fe1

    def step(self, v_old: np.ndarray, fix_val: np.ndarray, fix_idx: np.ndarray, h: float, pre: float | None,
             states: list[np.ndarray], fe0: list[np.ndarray], bdf=None):
        """One implicit step of length ``h`` [s]; ``pre`` = pre-charge voltage if the SPL pre-charge is on;
        ``fe0`` = drives at the start of the step. Backward Euler, or with ``bdf = (h_eff, v_hist, q_hist)``
        the variable-step BDF2 form ``C (v - v_hist) / h_eff`` (charges likewise).
        Returns (v, states, end drives, d(mean s)/d(drive))."""
        net, red, free = self.net, self.red, self.free
        nn = net.n_nodes
        h_eff, v_hist, q_hist = (h, v_old, None) if bdf is None else bdf
        a = (net.c_lin * (1.0 / h_eff) + net.g_lin).tocsr()
        b = net.c_lin @ v_hist * (1.0 / h_eff)
        if pre is not None and len(net.pre):
            diag = np.zeros(nn)
            diag[net.pre] = qs_network.G_PRE
            a = a + sp.diags(diag)
            b[net.pre] += qs_network.G_PRE * pre
        a_uu = a[free][:, free].tocsc()
        v = v_old.copy()
        v[fix_idx] = fix_val
        q_old = [s.mean(-1) for s in states] if q_hist is None else q_hist
        sets = (net.weight, net.sparsity)
        # phase key: identical pulses, and all gaps, start from the factorization of the same phase seen last
        key = (float(f"{h:.3e}"), float(f"{h_eff:.3e}"), pre, np.round(fix_val, 6).tobytes())
        lu, last, stale = self._lu.pop(key, None), np.inf, 0
        for it in range(self.qs.max_newton):
            res = a @ v - b
            rows, cols, vals = [], [], []
            jac = lu is None  # derivatives only where a factorization is due (modified Newton)
            for fs, s_old, q0, f0, (ch_r, ch_c, sw_r, sw_c) in zip(sets, states, q_old, fe0, self._stamps):
                s_new, dq, _ = self._switch(fs, s_old, f0, v, h, jac)
                cur, dg, dd, ds = _channel(fs, v, _vt(fs, s_new), jac)
                res += np.bincount(fs.d, cur, nn) - np.bincount(fs.s, cur, nn)
                fp = fs.dev.params.ferro
                k = fp.area * fp.ps / h_eff
                i_sw = k * (s_new.mean(-1) - q0)
                res += np.bincount(fs.g, i_sw, nn) - np.bincount(fs.d, 0.5 * i_sw, nn) - np.bincount(fs.s, 0.5 * i_sw, nn)
                if jac:
                    der = np.stack([dg, dd, ds])
                    rows += [ch_r.ravel(), sw_r.ravel()]
                    cols += [ch_c.ravel(), sw_c.ravel()]
                    vals.append(np.concatenate([der, -der]).ravel())
                    vals.append((SW_STAMP * (k * dq)[None, :]).ravel())
            if lu is None:
                r, c, x = red[np.concatenate(rows)], red[np.concatenate(cols)], np.concatenate(vals)
                keep = (r >= 0) & (c >= 0)
                jac = a_uu + sp.csc_matrix((x[keep], (r[keep], c[keep])), shape=a_uu.shape)
                try:
                    lu = splu(jac, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
                except RuntimeError as exc:
                    raise SimulatorError(f"quasi-static network: singular Jacobian ({exc})") from exc
                self.n_factor += 1
                stale = 0
            dv = lu.solve(-res[free])
            self.n_newton += 1
            if it:  # the first correction is the (nearly linear) response to the new source values
                dv = np.clip(dv, -self.qs.v_limit, self.qs.v_limit)
            v[free] += dv
            change = np.abs(dv).max()
            if change < self.qs.v_tol:
                break
            stale += 1
            if change > self.qs.contraction * last or stale >= self.qs.max_stale:
                lu = None  # the Jacobian has moved on: factor it anew
            last = change
        else:
            raise SimulatorError(f"quasi-static network: Newton did not converge in {self.qs.max_newton} "
                                 f"iterations (last change {np.abs(dv).max():.3g} V)")
        self.n_solves += 1
        self._lu[key] = lu
        while len(self._lu) > LU_CACHE:
            self._lu.pop(next(iter(self._lu)))
        out = [self._switch(fs, s, f0, v, h) for fs, s, f0 in zip(sets, states, fe0)]
        return v, [o[0] for o in out], [o[2] for o in out], [o[1] for o in out]


def _error_of_range(wparams: FeFETParams, s_mean: np.ndarray, err_s: np.ndarray) -> float:
    """Largest kept-or-pruned weight error estimate as a fraction of G_max - G_min: the accumulated
    polarization error times the local slope dG/ds at the final state."""
    ch, op = wparams.channel, wparams.op

    def g(s):
        vt = wparams.vt_mid - 0.5 * wparams.mw * np.clip(s, -1.0, 1.0)
        return drain_current(ch, op.v_read_g, op.v_read_d, vt) / op.v_read_d

    span = float(g(np.array(1.0)) - g(np.array(-1.0)))
    slope = np.abs(g(s_mean + 1e-3) - g(s_mean - 1e-3)) / 2e-3
    return float(np.max(slope * err_s, initial=0.0) / span)


def run_array_quasistatic(wparams: FeFETParams, sparams: FeFETParams, state: ArrayState, sched: Schedule,
                          cfg: ArrayConfig = ArrayConfig(), options: SolverOptions = SolverOptions(),
                          backend: str = "auto", qs: QSOptions = QSOptions()) -> CosimRun:
    """One array operation in the quasi-static network mode; same arguments and result as
    :func:`fefet_spice.spice.cosim.run_array_cosim`. Of ``options`` only ``t_edge`` is used (the PWL edges the
    deck would have); ``backend`` is unused (no simulator process); ``qs`` sets the error control and Newton.

    ``state`` is not modified; the result's ``state`` is the state after the operation (chain operations by
    passing it on). Every operation starts, as the deck (``uic``), with all nodes at 0 V. ``time`` holds the
    end time of every implicit step, ``n_points`` the number of network solves, ``error_estimate`` the
    accumulated local error estimate of the weight conductances (largest cell, fraction of G_max - G_min)."""
    for p in (wparams, sparams):
        if p.ferro.beta != 1.0:
            raise ParamError(f"{p.name}: the quasi-static mode advances domains with beta = 1 kinetics; "
                             f"got beta = {p.ferro.beta:g} (use run_array)")
    m, n = state.shape
    if sched.shape != (m, n):
        raise ParamError(f"schedule is for a {sched.shape} array, state is {m}x{n}")
    if qs.hold_fracs is not None:
        fracs = np.asarray(qs.hold_fracs, dtype=float)
        if fracs.ndim != 1 or not len(fracs) or fracs[-1] != 1.0 or np.any(np.diff(fracs) <= 0) or fracs[0] <= 0:
            raise ParamError(f"QSOptions.hold_fracs must increase to 1, got {qs.hold_fracs!r}")
    if not (qs.rtol > 0 and qs.atol > 0 and 0 < qs.first_step <= 1 and qs.max_growth > 1):
        raise ParamError(f"QSOptions: need rtol > 0, atol > 0, 0 < first_step <= 1, max_growth > 1; got {qs!r}")
    wdev, sdev = binned_device(wparams, cfg.bins_weight), binned_device(sparams, cfg.bins_sparsity)
    net = qs_network.build(wdev, sdev, m, n, sched, cfg)
    stepper = _Stepper(net, qs)
    states = [state.weight.reshape(m * n, -1).copy(), state.sparsity.reshape(m * n, -1).copy()]
    run = Integrator(stepper, qs, np.zeros(net.n_nodes), states, m * n)
    t_seg = np.concatenate([[0.0], np.cumsum(sched.dt)])
    for k, length, edge in intervals(sched, options):
        pre = sched.v_spl_pre if (sched.spl is None and t_seg[k + 1] <= sched.t_pre * (1 + 1e-9)) else None
        if edge:
            def sources(f, k=k):
                return qs_network.source_values(net, sched, k, f)
        else:
            def sources(f, k=k):
                return qs_network.source_values(net, sched, k, 1.0)
        run.interval(length, sources, pre)
    w_new = run.states[0].reshape(state.weight.shape)
    new = ArrayState(w_new, run.states[1].reshape(state.sparsity.shape))
    est = _error_of_range(wparams, w_new.mean(-1).ravel(), run.err[0])
    return CosimRun(state=new, time=np.array(run.times), n_points=stepper.n_solves, error_estimate=est)
