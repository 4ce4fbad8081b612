"""Time stepping of the quasi-static network mode (:mod:`.quasistatic`): the intervals of a schedule (PWL
edges and holds) and the error-controlled steps through them (backward Euler after a kink, variable-step BDF2
after it, local truncation error against the polynomial predictor)."""
from __future__ import annotations

import numpy as np

from ..array.schedule import Schedule
from ..errors import SimulatorError
from .deck import SolverOptions

EDGE_MIDPOINT = 0.02
"""PWL edges up to this fraction of their segment are taken at their midpoint, longer ones stepped through [-]."""
H_LADDER = 4
"""Step lengths are length x 2^(-k/H_LADDER) of their interval (k integer) [-]."""
BDF2_MAX_RATIO = 2.4
"""Largest step ratio taken with BDF2; a longer step is backward Euler [-]."""
PLAN_STEPS = 3
"""Steps of an interval that repeat the accepted lengths of the last like interval (the start of the transient,
where the controller, with no error estimate after the first step, would overshoot); the controller after it."""
FIRST_GROWTH = 3.0
"""Growth of the second step of an interval over the first (which has no error estimate) [-]."""


def intervals(sched: Schedule, options: SolverOptions):
    """(segment, length [s], edge) of every interval: a segment whose sources change starts with the deck's
    linear PWL transition (``edge`` True, length as :func:`~fefet_spice.spice.deck.pwl`), then holds. An edge
    shorter than :data:`EDGE_MIDPOINT` of its segment is taken at its midpoint instead (the hold starts half an
    edge late, the previous one ends half an edge late): the held time at each level is the deck's to first
    order, and a microsecond pulse is not stepped through its nanosecond edges."""
    dt = np.asarray(sched.dt, dtype=float)
    edge_eff = max(options.t_edge, 1e-8 * float(dt.sum()))
    lines = [sched.bl, sched.dol] + ([] if sched.dil_float else [sched.dil]) + ([] if sched.spl is None else [sched.spl])
    change = np.zeros(len(dt), bool)
    change[1:] = np.any(np.concatenate([np.diff(x, axis=1) != 0 for x in lines]), axis=0)
    e = np.where(change, np.minimum(edge_eff, 0.25 * dt), 0.0)
    ramp = e > EDGE_MIDPOINT * dt
    start = np.where(ramp, e, 0.5 * e)
    extend = np.append(np.where(ramp, 0.0, 0.5 * e)[1:], 0.0)
    out = []
    for k, d in enumerate(dt):
        if ramp[k]:
            out.append((k, e[k], True))
        out.append((k, d - start[k] + extend[k], False))
    return out


class Integrator:
    """Steps through the intervals with local error control (or the fixed grid of ``hold_fracs``)."""

    def __init__(self, stepper, qs, v, states, n_cells: int):
        """``stepper``: the network's implicit steps (:class:`.quasistatic._Stepper`), ``qs`` its options."""
        self.st, self.qs, self.v, self.states = stepper, qs, v, states
        net = stepper.net
        self.fe = [v[fs.g] - 0.5 * (v[fs.d] + v[fs.s]) for fs in (net.weight, net.sparsity)]
        self.err = [np.zeros(n_cells), np.zeros(n_cells)]
        self.times: list[float] = []
        self.t = 0.0
        self.plans: dict[tuple, list[float]] = {}

    def interval(self, length: float, sources, pre) -> None:
        """Advance over one interval of ``length`` [s]; ``sources(frac)`` gives (index, values) at a fraction.

        The first step after the kink is backward Euler, the following ones variable-step BDF2 (second order,
        L-stable for the 1e-14 s line nodes). Local errors: distance to the polynomial predictor through the
        last points (linear after one step, quadratic after two), scaled to the method's error constant."""
        qs = self.qs
        fixed = None if qs.hold_fracs is None else np.asarray(qs.hold_fracs, dtype=float)
        tau, h, n = 0.0, qs.first_step * length, 0
        # the first accepted steps of the last interval with the same length and sources (else of the last one
        # with the same length) are proposed again (the same pulse on the same network repeats its transient)
        # unless one of them fails the error test; from there the step controller takes over
        key = (float(f"{length:.6e}"), pre, np.round(sources(1.0)[1], 6).tobytes())
        plan, taken = self.plans.get(key, self.plans.get(key[:2], [])), []
        hist = [(0.0, self.v, self.fe, [s.mean(-1) for s in self.states])]  # points of this interval
        free = self.st.free
        while tau < length * (1 - 1e-12):
            if fixed is not None:
                h = fixed[n] * length - tau
            else:
                if n < min(len(plan), PLAN_STEPS):
                    h = plan[n]
                else:  # lengths on a ladder: identical pulses repeat their steps
                    h = length * 2.0 ** (-np.ceil(-H_LADDER * np.log2(h / length) - 1e-9) / H_LADDER)
            h = min(h, length - tau)
            if length - tau - h < 1e-3 * h:
                h = length - tau
            idx, val = sources((tau + h) / length)
            bdf, order = None, 1
            w = h / (hist[-1][0] - hist[-2][0]) if len(hist) >= 2 else np.inf
            if w <= BDF2_MAX_RATIO:  # variable-step BDF2 is zero-stable for step ratios below 1 + sqrt(2)
                (t1, v1, _, q1), (t0, v0, _, q0) = hist[-2], hist[-1]
                a0 = (1 + 2 * w) / (1 + w)
                bdf = (h / a0, ((1 + w) * v0 - w * w / (1 + w) * v1) / a0,
                       [((1 + w) * b - w * w / (1 + w) * c) / a0 for b, c in zip(q0, q1)])
                order = 2
            v, states, fe, dq = self.st.step(self.v, val, idx, h, pre, self.states, self.fe, bdf)
            ratio, est = 0.0, None
            if len(hist) >= 2:
                tn = tau + h
                pts = hist[-3:] if order == 2 and len(hist) >= 3 else hist[-2:]
                lag = lagrange([p[0] for p in pts], tn)
                # error constant / (1 + error constant) of the corrector against this predictor
                h_p = pts[-1][0] - pts[-2][0]
                c = 2.0 / 11.0 if len(pts) == 3 else (0.5 if order == 2 else 1.0) * h / (h + h_p)
                lte_v = c * np.abs(v[free] - sum(l * p[1][free] for l, p in zip(lag, pts)))
                ratio = float(lte_v.max(initial=0.0)) / qs.v_lte
                est = []
                for j, (d, s_new, s_old) in enumerate(zip(dq, states, self.states)):
                    e = np.abs(d) * c * np.abs(fe[j] - sum(l * p[2][j] for l, p in zip(lag, pts)))
                    est.append(e)
                    tol = qs.atol + qs.rtol * np.abs(s_new.mean(-1) - s_old.mean(-1))
                    ratio = max(ratio, float(np.max(e / tol, initial=0.0)))
            p_ord = 3.0 if order == 2 and len(hist) >= 3 else 2.0
            if fixed is None and ratio > 1.0 and h > 1e-6 * length:
                self.st.n_reject += 1
                plan = []
                h *= max(0.2, 0.9 * ratio ** (-1.0 / p_ord))
                continue
            n += 1
            if n > qs.max_steps:
                raise SimulatorError(f"quasi-static network: more than {qs.max_steps} steps in one interval of "
                                     f"{length:.3g} s at t = {self.t:.4g} s (rtol {qs.rtol:g}); loosen the tolerance")
            if est is not None:
                for acc, e in zip(self.err, est):
                    acc += e
            self.v, self.states, self.fe = v, states, fe
            taken.append(h)
            tau += h
            self.t += h
            self.times.append(self.t)
            hist = (hist + [(tau, v, fe, [s.mean(-1) for s in states])])[-3:]
            if est is None:  # no estimate after the first step of an interval: grow moderately
                grow = FIRST_GROWTH
            else:
                grow = qs.max_growth if ratio <= 0 else min(qs.max_growth, 0.9 * ratio ** (-1.0 / p_ord))
            h *= max(grow, 1.0) if ratio <= 1.0 else grow
        if fixed is None:  # exact phase, and any phase of this length (its steps are the next best guess)
            self.plans[key] = self.plans[key[:2]] = taken


def lagrange(ts: list[float], t: float) -> list[float]:
    """Weights of the polynomial through the points at ``ts`` evaluated at ``t`` (extrapolation)."""
    out = []
    for i, ti in enumerate(ts):
        w = 1.0
        for j, tj in enumerate(ts):
            if j != i:
                w *= (t - tj) / (ti - tj)
        out.append(w)
    return out
