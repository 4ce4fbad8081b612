"""Staged extraction: channel (subthreshold, above threshold) -> loops -> kinetics -> joint polish.

Each stage fits the numpy compact model (:mod:`fefet_spice.model`) to the measurements with lmfit,
with the settings of :data:`~fefet_spice.fit.spec.DEFAULT_SPEC`. Starting values come from the data
(crossings and coarse scans), never from a preset; the ``base`` parameter set supplies only what the
measurements cannot determine (geometry, C_ox, Ps, domain count, operating point).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Mapping

import numpy as np

from ..errors import DataError, FefetError
from ..model.metrics import _crossing
from ..params import FeFETParams
from . import data as fd
from .spec import DEFAULT_SPEC, ParamSpec, assemble
from .stages import StageResult, run_stage

I_SUB = 1e-8
"""Boundary [A at V_D = 0.1 V, scaled with V_D] between the subthreshold and above-threshold sets."""
LOG_WEIGHT = 0.1
"""Polish: one decade of current error weighs like 1/LOG_WEIGHT ..."""
G_WEIGHT = 0.02
"""... and a conductance error of G_WEIGHT x the conductance range weighs 1."""


@dataclass
class FitOutcome:
    params: FeFETParams
    values: dict[str, float]
    stages: list[StageResult]
    data: fd.FitData
    kinetics_free: bool = False
    """Whether alpha and beta were fitted (the pulse trains span widths or amplitudes)."""
    notes: dict = None
    """Parameter -> why a fitted value was replaced (see :func:`_prefer_simple_beta`)."""


def _initial(data: fd.FitData, base: FeFETParams) -> dict[str, float]:
    widest = max(data.sweeps, key=lambda r: (np.max(r.x), -abs(r.vd - 0.1)))
    k = int(np.argmax(widest.x))
    i_ref = 1e-9 * widest.vd / 0.1
    vt_hi = _crossing(widest.x[: k + 1], np.abs(widest.y[: k + 1]), i_ref)
    vt_lo = _crossing(widest.x[k:][::-1], np.abs(widest.y[k:][::-1]), i_ref)
    if not (math.isfinite(vt_hi) and math.isfinite(vt_lo)):
        raise DataError(f"{widest.source}: the current never crosses {i_ref:.1e} A; cannot start the fit")
    low = np.abs(widest.y[np.abs(widest.y) > 0])
    g_floor = max(float(np.percentile(low, 5)) / widest.vd, 1e-16) if len(low) else 1e-13
    fe = base.ferro
    return {"vt_hi": vt_hi, "vt_lo": vt_lo, "vt_mid": 0.5 * (vt_hi + vt_lo), "mw": vt_hi - vt_lo,
            "n_ss": 1.3, "log10_mu0": -4.0, "theta": 0.1, "r_contact": 1e3,
            "log10_g_floor": math.log10(g_floor), "alpha": fe.alpha, "beta": fe.beta,
            "log10_tau0": math.log10(fe.tau0), "dc_dwell": data.dc_dwell, "vc_up": 1.0, "vc_dn": 1.0, "vc_sigma": 0.05}


def _channel_eval(base, pts, sel, log: bool):
    vg, vd, i, st, grp = (a[sel] for a in pts)
    scale = np.ones_like(i)
    if not log:
        scale = np.array([np.abs(i[grp == g]).max() for g in grp])

    def evaluate(v):
        p = assemble(base, v)
        m = fd.channel_current(p, v["vt_hi"], v["vt_lo"], vg, vd, st)
        if log:
            return np.log10(np.maximum(np.abs(m), 1e-20)), np.log10(np.abs(i))
        return m / scale, i / scale
    return evaluate


def _channel_joint(base, pts, sub):
    e_sub = _channel_eval(base, pts, sub, log=True)
    e_above = _channel_eval(base, pts, ~sub, log=False)

    def evaluate(v):
        m1, d1 = e_sub(v)
        m2, d2 = e_above(v)
        return np.concatenate([m1, 10.0 * m2]), np.concatenate([d1, 10.0 * d2])
    return evaluate


def _sweep_eval(base, runs):
    data_y = np.concatenate([np.log10(np.abs(r.y[r.ok])) for r in runs])

    def evaluate(v):
        p = assemble(base, v)
        m = np.concatenate([fd.simulate_run(p, r)[r.ok] for r in runs])
        return np.log10(np.maximum(np.abs(m), 1e-20)), data_y
    return evaluate


def _pulse_eval(base, runs):
    g_range = max(float(np.ptp(np.concatenate([r.y for r in runs]))), 1e-12)
    data_y = np.concatenate([r.y for r in runs]) / g_range

    def evaluate(v):
        p = assemble(base, v)
        return np.concatenate([fd.simulate_run(p, r) for r in runs]) / g_range, data_y
    return evaluate, g_range


def _scan(evaluate, values, name, grid) -> float:
    best, arg = math.inf, values[name]
    for x in grid:
        m, d = evaluate({**values, name: float(x)})
        cost = float(np.nanmean((m - d) ** 2))
        if cost < best:
            best, arg = cost, float(x)
    return arg


FREED = ("alpha", "beta")
"""Kinetics parameters fitted when the pulse trains span widths or amplitudes."""
ALPHA_GRID = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0)
"""Merz exponents of the coarse starting scan when alpha is fitted."""


def _scan2(evaluate, values, alphas, log_taus) -> tuple[float, float]:
    """Best (alpha, log10 tau0) of a grid; the loop voltages stay fixed (Ea follows from the Merz law)."""
    best, arg = math.inf, (values["alpha"], values["log10_tau0"])
    for a in alphas:
        for t in log_taus:
            m, d = evaluate({**values, "alpha": float(a), "log10_tau0": float(t)})
            cost = float(np.nanmean((m - d) ** 2))
            if cost < best:
                best, arg = cost, (float(a), float(t))
    return arg


def fit_device(measurements, base: FeFETParams, spec: Mapping[str, Mapping[str, ParamSpec]] = DEFAULT_SPEC,
               report: Callable[[str, StageResult | None], None] | None = None,
               max_nfev: int = 200, free_kinetics: bool | None = None) -> FitOutcome:
    """Run every stage on ``measurements`` (a list of :class:`~fefet_spice.readers.Measurement`).

    ``report(stage, result)`` is called before (result None) and after each stage (progress).
    ``free_kinetics``: fit alpha and beta (default None: when the pulse trains span several widths or
    amplitudes, :func:`~fefet_spice.fit.coverage.kinetics_span`); False holds them at the base's values.
    """
    from .coverage import kinetics_span

    data = fd.prepare(measurements)
    v = _initial(data, base)
    free_kin = bool(data.pulses) and (kinetics_span(data) if free_kinetics is None else free_kinetics)
    if free_kin:  # the data fix alpha and beta: fit them, never take them from the base
        spec = {**spec, **{st: {**spec[st], **{k: replace(spec[st][k], vary=True) for k in FREED}}
                           for st in ("kinetics", "polish")}}
    stages: list[StageResult] = []
    notes: dict[str, str] = {}
    say = report or (lambda *_: None)

    def stage(name, evaluate, unit, scale=1.0, nfev=max_nfev):
        say(name, None)
        res = run_stage(name, spec[name], v, evaluate, scale=scale, unit=unit, max_nfev=nfev)
        v.update(res.values)
        stages.append(res)
        say(name, res)
        return res

    pts = fd.channel_points(data)
    sub = np.abs(pts[2]) < I_SUB * pts[1] / 0.1
    if sub.sum() < 5 or (~sub).sum() < 5:
        raise DataError("fit: the Id-Vg data need both subthreshold and above-threshold points")
    stage("channel_sub", _channel_eval(base, pts, sub, log=True), "log10(A)")
    stage("channel_above", _channel_eval(base, pts, ~sub, log=False), "fraction of curve maximum")
    stage("channel", _channel_joint(base, pts, sub), "log10(A) below / 0.1 x fraction of maximum above")
    v["vt_mid"], v["mw"] = 0.5 * (v["vt_hi"] + v["vt_lo"]), v["vt_hi"] - v["vt_lo"]

    loops = _sweep_eval(base, data.sweeps)
    vmax = max(float(np.max(np.abs(r.x))) for r in data.sweeps)
    grid = np.linspace(0.2, 1.0, 17) * vmax
    v["vc_up"] = _scan(loops, {**v, "vc_dn": 0.6 * vmax}, "vc_up", grid)
    v["vc_dn"] = _scan(loops, v, "vc_dn", grid)  # seen only through minor loops and narrower sweeps
    v["vc_sigma"] = 0.03 * v["vc_up"]
    stage("loops", loops, "log10(A)")
    if data.pulses:
        kin, g_range = _pulse_eval(base, data.pulses)
        if free_kin:
            v["beta"] = 1.0
            v["alpha"], v["log10_tau0"] = _scan2(kin, v, ALPHA_GRID, np.arange(-15.0, -5.0, 1.0))
        else:
            v["log10_tau0"] = _scan(kin, v, "log10_tau0", np.arange(-15.0, -7.0, 1.0))
        stage("kinetics", kin, "fraction of conductance range")
        stages[-1].metrics["g_range_S"] = g_range
        jk = _leave_one_train_out(base, data.pulses, spec["kinetics"], v, g_range, max_nfev)
        stages[-1].metrics.update(jk)
        stage("polish", _polish_eval(loops, kin), "weighted", nfev=max(60, max_nfev // 2))
        _widen_stderr(stages[-1], jk.get("jackknife_stderr", {}))
        if free_kin and "beta" in stages[-1].stderr:
            notes.update(_prefer_simple_beta(v, stages[-1], _polish_eval(loops, kin)))
    return FitOutcome(assemble(base, v), v, stages, data, free_kin, notes)


def _leave_one_train_out(base, runs, spec, values, g_range, max_nfev) -> dict:
    """Refit the kinetics stage without each pulse train in turn (>= 3 trains).

    Returns ``heldout_rmse`` (each left-out train predicted by the fit to the others, RMS over all of them,
    as a fraction of the full conductance range) and ``jackknife_stderr`` of every varied kinetics
    parameter: the spread across folds, which, unlike lmfit's covariance, sees model-data mismatch.
    """
    if len(runs) < 3:
        return {}
    est, sq = [], []
    for i, run in enumerate(runs):
        ev, _ = _pulse_eval(base, runs[:i] + runs[i + 1:])
        res = run_stage(f"kinetics_without_{i}", spec, values, ev, max_nfev=max_nfev)
        est.append(res.values)
        sq.append(((fd.simulate_run(assemble(base, res.values), run) - run.y) / g_range) ** 2)
    n = len(runs)
    varied = [k for k, s in spec.items() if s.vary and not s.expr]
    jk = {k: float(np.sqrt((n - 1) / n * np.sum((np.array([e[k] for e in est]) - np.mean([e[k] for e in est])) ** 2)))
          for k in varied}
    return {"heldout_rmse": float(np.sqrt(np.mean(np.concatenate(sq)))), "heldout": "leave one pulse train out",
            "jackknife_stderr": jk}


def _widen_stderr(stage: StageResult, jk: Mapping[str, float]) -> None:
    """Use the jackknife spread where it exceeds lmfit's stderr (in the result and its lmfit Parameters)."""
    for k, e in jk.items():
        if k in stage.stderr and (stage.stderr[k] is None or e > stage.stderr[k]):
            stage.stderr[k] = e
            if stage.params is not None and k in stage.params:
                stage.params[k].stderr = e


BETA_SIGMAS = 2.0
"""A fitted beta within this many stderr of 1 is set to 1 (the plain exponential law)."""


def _prefer_simple_beta(values: dict, polish: StageResult, evaluate) -> dict:
    """Keep beta = 1 when the data do not tell the fitted beta from 1 (within ``BETA_SIGMAS`` stderr).

    A stretch the data cannot resolve buys nothing but two extra SPICE nodes per domain bin. The polish
    RMSE with beta = 1 is stored in ``polish.metrics['rmse_beta_1']``.
    """
    beta, err = values["beta"], polish.stderr.get("beta")
    if err is None or abs(beta - 1.0) > BETA_SIGMAS * err:
        return {}
    values["beta"] = 1.0
    m, d = evaluate(values)
    polish.metrics["rmse_beta_1"] = float(np.sqrt(np.mean((m - d) ** 2)))
    return {"beta": f"1: the fitted {beta:.4g} +/- {err:.2g} does not differ from 1 by {BETA_SIGMAS:g} sigma, "
                    "so the plain exponential law is kept"}


def _polish_eval(loops, kin):
    def evaluate(v):
        m1, d1 = loops(v)
        m2, d2 = kin(v)
        return (np.concatenate([m1 * (1.0 / LOG_WEIGHT), m2 * (1.0 / G_WEIGHT)]),
                np.concatenate([d1 * (1.0 / LOG_WEIGHT), d2 * (1.0 / G_WEIGHT)]))
    return evaluate


class FitNotConverged(FefetError):
    """A stage ended with a goodness of fit too poor to use (the parameters would be meaningless)."""


def check_converged(outcome: FitOutcome, min_r2: float) -> None:
    """Raise :class:`FitNotConverged` naming the first stage whose R^2 is below ``min_r2`` (or NaN).

    lmfit's own ``success`` flag is kept in the metrics but not used here: it is also False when a stage
    merely used up its evaluation budget on an already good fit.
    """
    for st in outcome.stages:
        r2 = st.metrics.get("r2", float("nan"))
        if not (r2 >= min_r2):
            raise FitNotConverged(
                f"the fit did not converge: stage {st.name!r} ended with R^2 = {r2:.3g} (< {min_r2:g}) after "
                f"{st.metrics.get('nfev', '?')} evaluations; check the measurements or raise --max-nfev")
