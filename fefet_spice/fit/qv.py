"""Fit the ferroelectric of an MFM capacitor to Q-V traces (model: :mod:`fefet_spice.model.capacitor`).

The model carries its own domain history through every whole trace; the residual of each trace is
normalised by its charge range so traces weigh equally. Free: Ps, Ea_up, Ea_dn, Ea spread, up/down
correlation of the activation quantiles, imprint, alpha, log10 tau0 and one charge offset per trace;
eps_r is held at the high-field slope of the branches (:mod:`.qv_dielectric`: fitted jointly it took the
low-field slope, ~55 on MFM_scheme1, and predicted held-out sweeps worse on average); on request
(:data:`OPTIONAL`) leakage, beta, eps_r, a separate down spread, the imprint spread and a saturating
reversible polarization. Variants are chosen on sweeps held out of MFM_scheme1 (``masks``;
:mod:`.qv_refit`; BENCHMARKS.md), never on the fit error: beta held at 1 predicts the partial reversal
1.35 % instead of 2.40 % of the Q range; freeing the correlation took the last 40 % from 3.8 % to
1.35 %; the leakage fits a drift of the first 60 % that the rest does not continue. At one ramp rate
only the coercive voltage at that rate and the sharpness / lag of switching are measured, so tau0,
alpha and Ea slide along a valley: the fit warns and its stderrs and correlations show it. Multi-start
over a small deterministic grid of starting activation voltages, exponents and attempt times; the
lowest cost wins.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import DataError
from ..model.capacitor import CapacitorParams, charge, initial_state_from_charge
from ..model.ferro import domain_activation, one_pulse_polarization
from ..params import FerroParams
from ..readers.qv import QVTrace
from .stages import goodness
from .warnings import fit_warnings, generalization_warning

# name -> (lower, upper) bounds of the fitted quantities
BOUNDS = {"ps": (0.01, 1.5), "ea_up": (0.05, 100.0), "ea_dn": (0.05, 100.0), "ea_sigma": (0.005, 30.0),
          "v_imp": (-3.0, 3.0), "alpha": (0.3, 8.0), "beta": (0.25, 4.0), "ea_corr": (-1.0, 1.0),
          "ea_sigma_dn": (0.0, 30.0), "imp_sigma": (0.0, 3.0), "q_rev": (0.0, 1.0), "v_rev": (0.05, 10.0),
          "log10_tau0": (-18.0, -3.0), "eps_r": (1.0, 300.0), "g_leak": (0.0, 1e3), "q_offset": (-1.0, 1.0)}
UNITS = {"ps": "C/m^2", "ea_up": "V", "ea_dn": "V", "ea_sigma": "V", "v_imp": "V", "alpha": "-", "beta": "-",
         "ea_corr": "-", "ea_sigma_dn": "V", "imp_sigma": "V", "q_rev": "C/m^2", "v_rev": "V", "log10_tau0": "log10(s)", "eps_r": "-", "g_leak": "S/m^2", "q_offset": "C/m^2"}
OPTIONAL = ("g_leak", "beta", "ea_sigma_dn", "imp_sigma", "q_rev", "v_rev", "eps_r")
"""Parameters freed only on request (``fit --free``): each made the held-out sweeps of MFM_scheme1
worse (BENCHMARKS.md); ``imp_sigma`` needs ``imp_n > 1`` in the base. Held, eps_r comes from the
high-field slope of the branches (:mod:`.qv_dielectric`)."""


@dataclass
class QVFit:
    """Result of :func:`fit_qv`."""

    ferro: FerroParams
    capacitor: list[CapacitorParams]
    values: dict[str, float]
    stderr: dict[str, float | None]
    correlations: dict[str, dict[str, float]]
    held: dict[str, str]
    metrics: list[dict[str, float]]
    warnings: list[dict]
    nfev: int
    params: object = None
    """The lmfit ``Parameters`` at the optimum (bounds, stderr, correlations)."""
    refits: dict | None = None
    """Leave-one-sweep-out refits (:func:`fefet_spice.fit.qv_refit.segment_refits`), when run."""
    one_rate: bool = False
    """The traces hold one ramp rate only (and no pulse table): tau0 and alpha are not separable."""
    start: tuple | None = None
    """The (Ea, alpha, log10 tau0) start the best fit came from."""


def turning_points(trace: QVTrace, tol: float = 0.05) -> list[int]:
    """Sample indices where the sweep direction reverses (first and last sample included); reversals
    smaller than ``tol`` of the voltage range (sampling noise) are ignored."""
    v = trace.v
    tol = tol * float(np.ptp(v))
    if tol <= 0:
        return [0, len(v) - 1]
    turns, ext, d = [0], 0, 0
    for k in range(1, len(v)):  # turning points with hysteresis ``tol``
        if d == 0:
            d = 1 if v[k] - v[0] > tol else (-1 if v[0] - v[k] > tol else 0)
            ext = k if d else ext
        elif d * (v[k] - v[ext]) >= 0:
            ext = k
        elif d * (v[ext] - v[k]) > tol:
            turns.append(ext)
            d, ext = -d, k
    turns.append(len(v) - 1)
    return turns


def sweep_segments(trace: QVTrace) -> list[tuple[int, int]]:
    """``(start, stop)`` sample ranges of the monotonic sweeps between turning points."""
    turns = turning_points(trace)
    return [(a, b + 1 if i == len(turns) - 2 else b) for i, (a, b) in enumerate(zip(turns[:-1], turns[1:]))]


def ramp_rates(trace: QVTrace, spread: float = 2.0) -> list[float]:
    """Distinct ramp rates |dV/dt| [V/s] of a trace: mean slope of every sweep between turning points
    (sweeps shorter than 5 % of the voltage range ignored), clustered within a factor ``spread``."""
    v, t = trace.v, trace.t
    tol = 0.05 * float(np.ptp(v))
    if tol <= 0:
        return []
    turns = turning_points(trace)
    slopes = sorted(abs(v[b] - v[a]) / (t[b] - t[a]) for a, b in zip(turns[:-1], turns[1:])
                    if abs(v[b] - v[a]) > tol and t[b] > t[a])
    rates: list[float] = []
    for r in slopes:
        if not rates or r > spread * rates[-1]:
            rates.append(float(r))
    return rates


FERRO_KEYS = ("ps", "ea_up", "ea_dn", "ea_sigma", "ea_sigma_dn", "v_imp", "alpha", "beta", "ea_corr", "eps_r",
              "q_rev", "v_rev", "imp_sigma")
"""Fit quantities that are fields of FerroParams (plus log10_tau0 for tau0)."""


def _ferro(v: dict, base: FerroParams) -> FerroParams:
    kw = {k: float(v[k]) for k in FERRO_KEYS if k in v}
    if "log10_tau0" in v:
        kw["tau0"] = 10.0 ** v["log10_tau0"]
    return replace(base, **kw)


def _caps(v: dict, fp: FerroParams, traces, init: str) -> list[CapacitorParams]:
    out = []
    for i, tr in enumerate(traces):
        cp = CapacitorParams(g_leak=v["g_leak"], q_offset=v[f"q_offset_{i}"])
        p0 = {"up": 1.0, "down": -1.0}.get(init)
        if p0 is None:
            p0 = initial_state_from_charge(fp, cp, tr.q[0], tr.v[0])
        out.append(replace(cp, p_init=p0))
    return out


def model_charge(v: dict, base: FerroParams, traces, init: str) -> list[np.ndarray]:
    """Model Q [C/m^2] of every trace for parameter values ``v``."""
    fp = _ferro(v, base)
    ea = domain_activation(fp)
    out = []
    for tr, cp in zip(traces, _caps(v, fp, traces, init)):
        out.append(charge(fp, cp, tr.t, tr.v, ea))
    return out


def _start(base: FerroParams, traces, free: set[str]) -> dict:
    q = np.concatenate([tr.q for tr in traces])
    v = np.concatenate([tr.v for tr in traces])
    slope = np.polyfit(v, q, 1)[0]  # rough capacitance: split between dielectric and switching
    eps_r = float(np.clip(0.5 * slope * base.t_fe / 8.8541878128e-12, 5.0, 150.0))
    start = {"ps": float(np.clip(0.3 * np.ptp(q), 0.02, 1.0)), "ea_up": 3.0, "ea_dn": 3.0,
             "ea_sigma": 0.4 if base.ea_dist == "lognormal" else 1.0, "v_imp": 0.0, "alpha": 2.0,
             "beta": 1.0 if "beta" in free else base.beta, "ea_corr": base.ea_corr if "ea_corr" not in free else 0.5,
             "log10_tau0": math.log10(base.tau0), "eps_r": eps_r, "g_leak": 0.0,
             "ea_sigma_dn": base.ea_sigma_dn, "q_rev": base.q_rev, "v_rev": base.v_rev, "imp_sigma": base.imp_sigma}
    if "imp_sigma" in free:
        start["imp_sigma"] = max(base.imp_sigma, 0.3)
    if "ea_sigma_dn" in free:
        start["ea_sigma_dn"] = start["ea_sigma"]
    if "q_rev" in free:
        start["q_rev"] = max(base.q_rev, 0.1 * start["ps"])
        start["eps_r"] *= 0.8
    for i, tr in enumerate(traces):
        start[f"q_offset_{i}"] = float(0.5 * (tr.q.max() + tr.q.min()))
    return start


def _lm_params(start: dict, free: set[str], n_traces: int):
    import lmfit

    params = lmfit.Parameters()
    for name, value in start.items():
        key = "q_offset" if name.startswith("q_offset_") else name
        lo, hi = BOUNDS[key]
        vary = name.startswith("q_offset_") or name in free
        params.add(name, value=float(np.clip(value, lo, hi)), min=lo, max=hi, vary=vary)
    return params


def _residual(base, traces, init, scales, pulses=None, masks=None):
    masks = masks or [slice(None)] * len(traces)

    def resid(p):
        v = p.valuesdict()
        model = model_charge(v, base, traces, init)
        out = [(m[k] - tr.q[k]) / s for m, tr, s, k in zip(model, traces, scales, masks)]
        if pulses is not None:  # switched fraction after one pulse, in units of the full swing (2)
            pw, amp, frac, weight = pulses
            out.append(weight * (one_pulse_polarization(_ferro(v, base), amp, pw) / v["ps"] - frac) / 2.0)
        return np.concatenate(out)
    return resid


WARN_SCALES = {"v_imp": 0.1, "ea_corr": 1.0, "g_leak": 1e-3}
"""Natural scales of parameters that may sit near zero (relative stderr is taken against them)."""


def pulse_rms(fe: FerroParams, pulses) -> float:
    """RMS difference of the one-pulse switched fraction, in units of the full swing (2) [-]."""
    pw, amp, frac, _ = pulses
    return float(np.sqrt(np.mean((one_pulse_polarization(fe, amp, pw) / fe.ps - frac) ** 2)) / 2.0)


MODEL_STRUCTURE: dict = {"beta": 1.0}
"""Structural fields of FerroParams the capacitor fit sets on its base (chosen on held-out sweeps of
MFM_scheme1, never on the fit error; BENCHMARKS.md)."""


def capacitor_base(fp: FerroParams) -> FerroParams:
    """``fp`` with the capacitor fit's model structure (:data:`MODEL_STRUCTURE`)."""
    return replace(fp, **MODEL_STRUCTURE) if MODEL_STRUCTURE else fp


def default_free(traces, options: set[str] = frozenset()) -> tuple[set[str], dict[str, str]]:
    """Free parameters for these traces and the held ones with their reason.

    ``options``: any of :data:`OPTIONAL` to free on request.
    """
    free = {"ps", "ea_up", "ea_dn", "ea_sigma", "ea_corr", "v_imp", "alpha", "log10_tau0"}
    unknown = sorted(set(options) - set(OPTIONAL))
    if unknown:
        raise DataError(f"--free: {unknown[0]!r} is not an optional parameter (one of {', '.join(OPTIONAL)})")
    free |= set(options)
    if "q_rev" in free:
        free.add("v_rev")
    held = {}
    if "g_leak" not in free:
        held["g_leak"] = "held at 0 (freed with --free g_leak)"
    if "beta" not in free:
        held["beta"] = ("held at the base's value (1 in the capacitor fit): freeing it made the sweeps held out of "
                        "MFM_scheme1 worse (a partial reversal 2.4 % instead of 1.35 %); freed with --free beta")
    return free, held


def default_starts(traces, base: FerroParams) -> tuple:
    """Starting (Ea, alpha, log10 tau0) triples: a coercive voltage of 0.4 max|V| reached in a tenth of
    the trace, for a fast and a slow attempt time (sharp and sluggish switching at the trace's rate)."""
    vmax = max(float(np.max(np.abs(tr.v))) for tr in traces)
    span = max(float(tr.t[-1] - tr.t[0]) for tr in traces)
    out = []
    for a, lt in ((2.0, -12.0), (2.0, math.log10(span) - 2.0), (3.5, math.log10(span) - 5.0)):
        big = max(math.log(0.1 * span / 10.0 ** lt), 1.0)
        out.append((0.4 * vmax * big ** (1.0 / a), a, lt))
    return tuple(out)


def fit_qv(traces: list[QVTrace], base: FerroParams, free: set[str] | None = None, init: str = "up",
           max_nfev: int = 400, fit_stop: list[int] | None = None, starts: tuple | None = None,
           progress=None, pulses=None, masks: list | None = None, x0: dict | None = None,
           covariance: bool = True) -> QVFit:
    """Fit ``base`` (ferroelectric) to the Q-V ``traces``.

    Parameters
    ----------
    traces : list of QVTrace
    base : FerroParams
        Supplies everything not fitted (n_domains, ea_dist, t_fe, area, held kinetics).
    free : set of str, optional
        Fitted parameters (default :func:`default_free`); per-trace offsets are always fitted.
    init : {'up', 'down', 'trace'}
        Initial domain state of every trace: saturated up / down, or from the trace's first charge.
    fit_stop : list of int, optional
        Fit only samples ``[:fit_stop[i]]`` of trace i (hold the rest out); metrics cover both parts,
        the model always runs through whole traces.
    masks : list of bool arrays, optional
        Fit only the samples where ``masks[i]`` is true (e.g. every segment of a trace but one); the
        model runs through whole traces, the metrics give the error on the masked-out rest. Overrides
        ``fit_stop``.
    pulses : tuple of arrays (pw [s], amp [V], P/Ps in [-1, 1]) and a weight, optional
        A one-pulse switching table (from the fully down state) fitted jointly: it spans pulse widths
        and pins tau0 and alpha, which one ramp rate cannot.
    x0 : dict, optional
        Start from these values (one start; e.g. a refit from a finished fit's ``values``).
    covariance : bool
        Compute the finite-difference covariance at the optimum (refits skip it).
    starts : tuple of (Ea, alpha, log10 tau0), optional
        Multi-start grid of starting activation voltage [V], Merz exponent and attempt time (default
        :func:`default_starts`).
    """
    import lmfit

    if init not in ("up", "down", "trace"):
        raise DataError(f"initial state must be 'up', 'down' or 'trace', got {init!r}")
    held = {}
    if free is None:
        free, held = default_free(traces)
    if masks is None:
        stops = fit_stop or [len(tr) for tr in traces]
        masks = [np.arange(len(tr)) < s for tr, s in zip(traces, stops)]
    masks = [np.asarray(m, dtype=bool) for m in masks]
    last = [int(np.flatnonzero(m)[-1]) + 1 if m.any() else 0 for m in masks]
    for tr, m in zip(traces, masks):
        if m.sum() < 20:
            raise DataError(f"{tr.source}: only {int(m.sum())} samples to fit; a Q-V fit needs at least 20")
    fit_traces = [tr.segment(0, n) for tr, n in zip(traces, last)]  # the model never needs later samples
    masks = [m[:n] for m, n in zip(masks, last)]
    scales = [max(float(np.ptp(tr.q[m])), 1e-12) for tr, m in zip(fit_traces, masks)]
    free, eps_note = set(free), None
    if "eps_r" not in free:  # the background permittivity from the high-field slope (qv_dielectric)
        from .qv_dielectric import high_field_permittivity

        eps_note = None if "g_leak" in free else high_field_permittivity(fit_traces, base.t_fe, masks)
        if eps_note is None:  # leakage charge in the slope, or no branch recedes from the largest |V|: fitted
            free.add("eps_r")
        else:
            base = replace(base, eps_r=float(np.clip(eps_note[0], *BOUNDS["eps_r"])))
    resid = _residual(base, fit_traces, init, scales, pulses, masks)
    best, nfev = None, 0
    starts = ((None, None, None),) if x0 is not None else (starts or default_starts(fit_traces, base))
    for k, (ea0, a0, lt0) in enumerate(starts):
        if progress:
            progress(k, len(starts))
        if x0 is not None:
            start = {**_start(base, fit_traces, free), **{n: x for n, x in x0.items() if n in BOUNDS or
                                                        n.startswith("q_offset_")}}
        else:
            start = {**_start(base, fit_traces, free), "ea_up": ea0, "ea_dn": ea0, "alpha": a0}
            if "log10_tau0" in free:
                start["log10_tau0"] = lt0
        if eps_note is not None:
            start["eps_r"] = base.eps_r
        out = lmfit.minimize(resid, _lm_params(start, free, len(traces)), method="least_squares",
                             max_nfev=max_nfev, x_scale="jac")
        nfev += out.nfev
        if best is None or out.chisqr < best.chisqr:
            best, best_start = out, (ea0, a0, lt0)
    if covariance:
        _covariance(best, resid)
        nfev += len(best.var_names) + 1
    full = [np.concatenate((m, np.zeros(len(tr) - len(m), bool))) for m, tr in zip(masks, traces)]
    res = _result(best, base, traces, full, init, held, nfev, pulses)
    res.start = best_start if x0 is None else None
    if eps_note is not None:
        from .qv_dielectric import held_reason

        res.stderr["eps_r"] = eps_note[1] if math.isfinite(eps_note[1]) else None
        res.held["eps_r"] = held_reason(*eps_note)
    return res


def _covariance(out, resid) -> None:
    """Stderr and correlations from a central-difference Jacobian at the optimum (Gauss-Newton covariance)."""
    names = out.var_names
    p0 = out.params
    cols = []
    for name in names:
        p = p0[name]
        h = 1e-4 * max(abs(p.value), 1e-3 * (p.max - p.min) if math.isfinite(p.max - p.min) else 1e-3)
        lo, hi = p0.copy(), p0.copy()
        lo[name].set(value=p.value - h, min=-np.inf, max=np.inf)
        hi[name].set(value=p.value + h, min=-np.inf, max=np.inf)
        cols.append((resid(hi) - resid(lo)) / (2 * h))
    jac = np.column_stack(cols)
    r = resid(p0)
    dof = max(len(r) - len(names), 1)
    try:
        cov = np.linalg.inv(jac.T @ jac) * float(r @ r) / dof
    except np.linalg.LinAlgError:
        return
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    for i, name in enumerate(names):
        p0[name].stderr = float(sd[i]) if sd[i] > 0 else None
        p0[name].correl = {o: float(cov[i, j] / (sd[i] * sd[j])) for j, o in enumerate(names)
                           if j != i and sd[i] > 0 and sd[j] > 0}


def _result(out, base, traces, masks, init, held, nfev, pulses=None) -> QVFit:
    v = out.params.valuesdict()
    fp = _ferro(v, base)
    caps = _caps(v, fp, traces, init)
    model = model_charge(v, base, traces, init)
    metrics = [trace_metrics(m, tr.q, mask=k) for m, tr, k in zip(model, traces, masks)]
    stderr = {k: (None if p.stderr is None or not math.isfinite(p.stderr) else float(p.stderr))
              for k, p in out.params.items() if p.vary}
    corr = {k: {o: round(float(c), 4) for o, c in (p.correl or {}).items()} for k, p in out.params.items()
            if p.vary and p.correl}
    every = sorted(r for tr in traces for r in ramp_rates(tr))
    one_rate = pulses is None and sum(1 for i, r in enumerate(every) if i == 0 or r > 2.0 * every[i - 1]) < 2
    warns = qv_warnings(out.params, one_rate, metrics, [tr.source for tr in traces])
    return QVFit(fp, caps, dict(v), stderr, corr, held, metrics, warns, nfev, out.params, None, one_rate)


def qv_warnings(params, one_rate: bool, metrics, sources) -> list[dict]:
    """Bound, stderr, correlation and undetermined warnings of a Q-V fit, and held-out error far above
    the training error."""
    scales = {**WARN_SCALES, **{k: 0.01 for k in params if k.startswith("q_offset_")}}  # [C/m^2]
    warns = fit_warnings(params, scales=scales, undetermined={
        k: "loops a decade apart in ramp rate (or a pulse-width table): at one ramp rate tau0, alpha and Ea are "
           "pinned only through the sharpness and lag of switching" for k in ("log10_tau0", "alpha")} if one_rate else None)
    for m, src in zip(metrics, sources):
        if "heldout_nrmse" in m:
            w = generalization_warning(m["train_nrmse"] + 0.0025, m["heldout_nrmse"], label=f"{src}: held-out",
                                       factor=2.0)
            warns += [w] if w else []
    return warns


def trace_metrics(model: np.ndarray, data: np.ndarray, stop: int | None = None, mask=None) -> dict[str, float]:
    """``nrmse`` (RMS error / (max Q - min Q)), ``rmse`` [C/m^2], ``r2``; with ``stop`` < len also the
    training (``[:stop]``) and held-out (``[stop:]``) nrmse; with a boolean ``mask`` (fitted samples)
    the same for the fitted and the masked-out samples."""
    g = goodness(model, data)
    rng = float(np.ptp(data)) or 1.0
    out = {"nrmse": g["rmse"] / rng, "rmse": g["rmse"], "r2": g["r2"], "n_points": g["n_points"],
           "q_range": rng}
    if mask is None and stop is not None:
        mask = np.arange(len(data)) < stop
    if mask is not None and 0 < int(np.sum(mask)) < len(data):
        mask = np.asarray(mask, dtype=bool)
        out["train_nrmse"] = float(np.sqrt(np.mean((model[mask] - data[mask]) ** 2))) / rng
        out["heldout_nrmse"] = float(np.sqrt(np.mean((model[~mask] - data[~mask]) ** 2))) / rng
    return out
