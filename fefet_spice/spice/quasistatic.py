"""Quasi-static network mode for array operations (issue 18): SPICE electrical fidelity at 64x64 in minutes.

Within a schedule segment every line voltage is constant, and the network's RC constants (50 ohm x
0.2 fF lines, channel x gate capacitance) are far below a pulse, so every node connected to a source
sits at the solution of the resistive network, while floating nodes (floating SPL after the pre-charge,
the weight gate of a pruned cell behind an off sparsity FeFET, floating DILs) keep their charge and follow
their capacitive coupling, leak and off-channel currents. Both follow from implicit steps of the network
of :func:`fefet_spice.spice.array.array_deck` (:mod:`.qs_network`: same elements, values and channel
equations, :func:`fefet_spice.model.channel.intrinsic_current`): ``C (v - v_hist) / h_eff + G v +
I_channel(v) + I_switch(v) = 0`` (backward Euler for the first step after a kink of the sources, variable-step
BDF2 after it), solved by Newton over all nodes at once with analytic device partials
(:mod:`.qs_kernels`); each Newton correction is found by GMRES preconditioned with the sparse LU (SuperLU)
of an earlier step's Jacobian, which is factored anew only when GMRES stalls (steps of other lengths and
source phases reuse one factorization).

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
from ..model.channel import drain_current
from ..params import FeFETParams
from . import qs_network
from .array import ArrayConfig, ArrayState
from .cosim import CosimRun
from .deck import SolverOptions
from .device import binned_device
from .qs_kernels import Bins, channel, gmres
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
    v_tol: float = 1e-3
    """Newton stops when no node voltage moves more than this [V] (1 mV: 50x below the step tolerance
    ``v_lte``; Newton converges fast, so the error left is far smaller; 12 % fewer iterations than 0.1 mV at
    32x32, results 0.002 % of range apart)."""
    max_newton: int = 60
    """Newton iterations per step before giving up."""
    v_limit: float = 1.0
    """Largest node voltage change per Newton iteration [V] (limits overshoot of exponential currents)."""
    gmres_max: int = 8
    """Newton corrections are solved by GMRES preconditioned with the last factorization (of an earlier
    step's Jacobian: another step length or source phase); the Jacobian is factored anew only when GMRES
    needs more than this many iterations [-]."""
    gmres_rtol: float = 1e-2
    """GMRES stops when the linear residual is below this fraction of the Newton residual [-]."""
    switching_feedback: bool = True
    """Include the switching charge in the node charge balance."""


GAUSS = (0.5 - 0.5 / np.sqrt(3.0), 0.5 + 0.5 / np.sqrt(3.0))
"""Within a step the drive is taken linear from its start to its end value (the domain rates are exponential
in the drive: its value at the step's end alone overstates the switching); the bins advance over two halves
held at the drive of the two Gauss-Legendre points."""


def _vt(fs: FeFETSet, s: np.ndarray) -> np.ndarray:
    p = fs.dev.params
    return p.vt_mid - 0.5 * p.mw * s.mean(axis=-1)


class _Stepper:
    """Implicit steps of one network; unknowns are the non-fixed nodes (reduced index; the fixed ones map
    to a dump slot past the end)."""

    def __init__(self, net: Network, qs: QSOptions):
        self.net, self.qs = net, qs
        free = np.ones(net.n_nodes, bool)
        free[net.fixed] = False
        self.free = np.flatnonzero(free)
        nf = len(self.free)
        self.red = np.full(net.n_nodes, nf)
        self.red[self.free] = np.arange(nf)
        self.n_solves = 0
        self.n_newton = 0
        self.n_factor = 0
        self.n_gmres = 0
        self.n_reject = 0
        self._lu = None
        self.g_f, self.c_f = net.g_lin[self.free].tocsr(), net.c_lin[self.free].tocsr()
        self.g_uu, self.c_uu = self.g_f[:, self.free].tocsr(), self.c_f[:, self.free].tocsr()
        self.pre = self.red[net.pre]
        self.sets = (net.weight, net.sparsity)
        self.bins = [Bins(fs.dev) for fs in self.sets]
        self.ports = [(self.red[fs.g], self.red[fs.d], self.red[fs.s]) for fs in self.sets]
        self.cat = np.concatenate([np.concatenate([d, s, g]) for g, d, s in self.ports])
        self._cur = [None, None]
        self._stamps = [self._stamp_index(*pt) for pt in self.ports]

    def _stamp_index(self, g, d, s):
        """Row/column index arrays of the channel (2 x 3) and switching (3 x 3) Jacobian stamps, and which
        entries fall on free rows and columns."""
        rows = np.concatenate([np.stack([d, d, d, s, s, s]), np.repeat(np.stack([g, d, s]), 3, axis=0)])
        cols = np.concatenate([np.stack([g, d, s, g, d, s]), np.tile(np.stack([g, d, s]), (3, 1))])
        nf = len(self.free)
        keep = (rows < nf) & (cols < nf)
        return rows[keep], cols[keep], keep

    def _devices(self, v, states, q_old, fe0, h, h_eff, derivative):
        """Device currents into the free nodes (reduced vector), new bin states, end drives and, with
        ``derivative``, per set the partials (dg, dd, ds, k dq)."""
        nf = len(self.free)
        weights, dt = GAUSS, (0.5 * h, 0.5 * h)
        parts, news, fes, ders = [], [], [], []
        for j, (fs, s_old, q0, f0) in enumerate(zip(self.sets, states, q_old, fe0)):
            vg, vd, vs = v[fs.g], v[fs.d], v[fs.s]
            fe1 = vg - 0.5 * (vd + vs)
            fb = self.qs.switching_feedback
            s_new, dq = self.bins[j].advance(s_old, f0, fe1, weights, dt, derivative and fb)
            cur, dg, dd, ds = channel(fs.dev.params.channel, vg, vd, vs, _vt(fs, s_new), self._cur[j])
            self._cur[j] = cur
            fp = fs.dev.params.ferro
            k = fp.area * fp.ps / h_eff
            i_sw = k * (s_new.mean(-1) - q0)
            parts += [cur - 0.5 * i_sw, -cur - 0.5 * i_sw, i_sw]
            news.append(s_new)
            fes.append(fe1)
            if derivative:
                ders.append((dg, dd, ds, k * dq if fb else np.zeros(len(fe1))))
        res = np.bincount(self.cat, np.concatenate(parts), nf + 1)[:nf]
        return res, news, fes, ders

    def _matvec(self, a_uu, ders):
        nf = len(self.free)

        def mv(x):
            xf = np.append(x, 0.0)
            parts = []
            for (g, d, s), (dg, dd, ds, kdq) in zip(self.ports, ders):
                xg, xd, xs = xf[g], xf[d], xf[s]
                ich = dg * xg + dd * xd + ds * xs
                isw = kdq * (xg - 0.5 * (xd + xs))
                parts += [ich - 0.5 * isw, -ich - 0.5 * isw, isw]
            return a_uu @ x + np.bincount(self.cat, np.concatenate(parts), nf + 1)[:nf]
        return mv

    def _factor(self, a_uu, ders):
        rows, cols, vals = [], [], []
        for (r, c, keep), (dg, dd, ds, kdq) in zip(self._stamps, ders):
            der = np.stack([dg, dd, ds])
            sw = kdq[None, :] * np.outer([1.0, -0.5, -0.5], [1.0, -0.5, -0.5]).reshape(9, 1)
            x = np.concatenate([der, -der, sw])[keep]
            rows.append(r)
            cols.append(c)
            vals.append(x)
        jac = a_uu + sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                   shape=a_uu.shape)
        try:
            self._lu = splu(jac.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
        except RuntimeError as exc:
            raise SimulatorError(f"quasi-static network: singular Jacobian ({exc})") from exc
        self.n_factor += 1

    def step(self, v_old: np.ndarray, fix_val: np.ndarray, fix_idx: np.ndarray, h: float, pre: float | None,
             states: list[np.ndarray], fe0: list[np.ndarray], bdf=None):
        """One implicit step of length ``h`` [s]; ``pre`` = pre-charge voltage if the SPL pre-charge is on;
        ``fe0`` = drives at the start of the step. Backward Euler, or with ``bdf = (h_eff, v_hist, q_hist)``
        the variable-step BDF2 form ``C (v - v_hist) / h_eff`` (charges likewise).
        Newton with analytic device partials; each correction by GMRES preconditioned with the last
        factorization, which is renewed when GMRES does not converge within ``gmres_max`` iterations.
        Returns (v, states, end drives, d(mean s)/d(drive))."""
        free, qs = self.free, self.qs
        h_eff, v_hist, q_hist = (h, v_old, None) if bdf is None else bdf
        a_uu = self.g_uu + self.c_uu * (1.0 / h_eff)
        on = pre is not None and len(self.pre)
        if on:
            a_uu = a_uu + sp.csr_matrix((np.full(len(self.pre), qs_network.G_PRE), (self.pre, self.pre)),
                                        shape=a_uu.shape)
        v = v_old.copy()
        v[fix_idx] = fix_val
        lin_hist = self.c_f @ v_hist * (1.0 / h_eff)
        q_old = [s.mean(-1) for s in states] if q_hist is None else q_hist
        change = np.inf
        for it in range(qs.max_newton):
            res = self.g_f @ v + self.c_f @ v * (1.0 / h_eff) - lin_hist
            if on:
                res[self.pre] += qs_network.G_PRE * (v[self.net.pre] - pre)
            dev_res, _, _, ders = self._devices(v, states, q_old, fe0, h, h_eff, True)
            rhs = -(res + dev_res)
            dv = None
            if self._lu is not None:
                dv, k = gmres(self._matvec(a_uu, ders), rhs, self._lu.solve, qs.gmres_rtol, qs.gmres_max)
                self.n_gmres += k
            if dv is None:
                self._factor(a_uu, ders)
                dv = self._lu.solve(rhs)
            self.n_newton += 1
            if it:  # the first correction is the (nearly linear) response to the new source values
                dv = np.clip(dv, -qs.v_limit, qs.v_limit)
            v[free] += dv
            change = np.abs(dv).max(initial=0.0)
            if change < qs.v_tol:
                break
        else:
            raise SimulatorError(f"quasi-static network: Newton did not converge in {qs.max_newton} "
                                 f"iterations (last change {change:.3g} V)")
        self.n_solves += 1
        fe = [v[fs.g] - 0.5 * (v[fs.d] + v[fs.s]) for fs in self.sets]
        out = [b.advance(s, f0, f1, GAUSS, (0.5 * h, 0.5 * h), qs.switching_feedback)
               for b, s, f0, f1 in zip(self.bins, states, fe0, fe)]
        dq = [o[1] if o[1] is not None else np.zeros(len(f)) for o, f in zip(out, fe)]
        return v, [o[0] for o in out], fe, dq


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
