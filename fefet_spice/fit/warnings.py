"""Honest uncertainty: warnings about a finished least-squares fit (any lmfit fit of this package).

:func:`fit_warnings` inspects the fitted parameters (lmfit ``Parameters`` or a ``MinimizerResult``) and
reports, as JSON-ready records ``{"parameter", "kind", "message"}``:

* ``at_bound`` — a varied parameter at, or within ``bound_tol`` (1 %) of, a bound (relative to the bound's
  magnitude: alpha at 5.95 of a bound 6 is at it, r_contact at 1 kOhm of a bound 0 is not);
* ``uncertain`` — relative standard error above ``max_rel_stderr`` (50 %); for a parameter named
  ``log10_X`` the relative error of X, ``ln(10) * stderr``; ``no_stderr`` when lmfit could not estimate it
  (singular covariance: the data do not pin it);
* ``correlated`` — |correlation| with another varied parameter above ``max_corr`` (0.98), once per pair;
* ``undetermined`` — a parameter the supplied data cannot determine, with the measurement that would pin
  it (the caller knows its data and passes ``undetermined = {name: "measurement that would pin it"}``):
  its stderr, if any, says nothing then.

:func:`generalization_warning` compares a held-out or cross-validated error with the training error.
Pure Python on lmfit's objects (lmfit is not imported here).
"""
from __future__ import annotations

import math
from typing import Mapping

BOUND_TOL = 0.01
MAX_REL_STDERR = 0.5
MAX_CORR = 0.98
GENERALIZATION_FACTOR = 1.5
"""A held-out / cross-validated error above this multiple of the training error is flagged."""


def _warning(name: str, kind: str, message: str) -> dict:
    return {"parameter": name, "kind": kind, "message": message}


def _near_bound(value: float, lo: float, hi: float, tol: float) -> str | None:
    """The bound ``value`` sits at or within ``tol`` of: ``tol * |bound|`` (a bound at 0: exactly at it,
    or within ``tol`` of the range when that is finite and narrower than 1)."""
    for side, b, other in (("lower", lo, hi), ("upper", hi, lo)):
        if b is None or not math.isfinite(b):
            continue
        width = abs(b) if b != 0.0 else (abs(other - b) if other is not None and math.isfinite(other)
                                         and abs(other - b) < 1.0 else 0.0)
        if abs(value - b) <= tol * width:
            return f"{side} bound {b:.6g}"
    return None


def _relative_stderr(name: str, value: float, stderr: float, scale: float | None) -> float:
    if name.startswith("log10_"):
        return math.log(10.0) * stderr
    ref = max(abs(value), scale or 0.0)
    return math.inf if ref == 0.0 else stderr / ref


def fit_warnings(params, *, undetermined: Mapping[str, str] | None = None,
                 scales: Mapping[str, float] | None = None, bound_tol: float = BOUND_TOL,
                 max_rel_stderr: float = MAX_REL_STDERR, max_corr: float = MAX_CORR) -> list[dict]:
    """Warnings about the varied parameters of a finished lmfit fit.

    Parameters
    ----------
    params : lmfit.Parameters or lmfit.MinimizerResult
        The fitted parameters (bounds, ``stderr`` and ``correl`` as lmfit leaves them).
    undetermined : mapping, optional
        Parameter name -> the measurement that would determine it, for every parameter these data
        cannot pin (varied or held). Computed by the caller from what the data cover.
    scales : mapping, optional
        Parameter name -> natural scale in its unit, for parameters whose value may sit near zero
        (an imprint voltage): the relative stderr is then ``stderr / max(|value|, scale)``.
    bound_tol, max_rel_stderr, max_corr : float
        Thresholds: fraction of the bound's magnitude (1 %), relative stderr (50 %), |correlation| (0.98).

    Returns
    -------
    list of dict
        ``{"parameter", "kind", "message"}`` (``correlated`` also ``"pair"``), kinds ``at_bound``,
        ``no_stderr``, ``uncertain``, ``correlated``, ``undetermined``; in parameter order, deterministic.
    """
    params = getattr(params, "params", params)
    undetermined = dict(undetermined or {})
    scales = scales or {}
    out: list[dict] = []
    varied = [k for k in params if params[k].vary and not params[k].expr]
    for k in varied:
        p = params[k]
        value = float(p.value)
        where = _near_bound(value, p.min, p.max, bound_tol)
        if where:
            out.append(_warning(k, "at_bound", f"{k} = {value:.6g} is at or within {100 * bound_tol:g} % of its "
                                               f"{where}: the optimum may lie outside; its stderr is not meaningful"))
        if k in undetermined:
            continue  # reported below; its stderr says nothing
        err = p.stderr
        if err is None or not math.isfinite(err):
            out.append(_warning(k, "no_stderr", f"{k}: no standard error (singular covariance): these data may "
                                                "not determine it"))
            continue
        rel = _relative_stderr(k, value, float(err), scales.get(k))
        if rel > max_rel_stderr:
            what = f"{k[6:]} (from {k})" if k.startswith("log10_") else k
            out.append(_warning(k, "uncertain", f"{what}: relative standard error {100 * rel:.0f} % "
                                                f"(> {100 * max_rel_stderr:g} %)"))
    seen = set()
    for k in varied:
        for j, c in sorted((params[k].correl or {}).items()):
            pair = tuple(sorted((k, j)))
            if j in varied and pair not in seen and c is not None and abs(c) > max_corr:
                seen.add(pair)
                out.append({**_warning(pair[0], "correlated",
                                       f"{pair[0]} and {pair[1]} are correlated ({c:+.3f}): the data fix a "
                                       "combination of the two, not each"), "pair": list(pair)})
    return out + undetermined_warnings(undetermined)


def undetermined_warnings(undetermined: Mapping[str, str]) -> list[dict]:
    """One ``undetermined`` record per entry of ``{name: measurement that would pin it}``."""
    return [_warning(k, "undetermined", f"{k}: not determined by these data; it needs {how}")
            for k, how in undetermined.items()]


def generalization_warning(train_error: float, test_error: float, *, label: str = "cross-validated",
                           factor: float = GENERALIZATION_FACTOR, unit: str = "") -> dict | None:
    """A warning when ``test_error`` (held-out or cross-validated) exceeds ``factor`` x ``train_error``."""
    if not (math.isfinite(train_error) and math.isfinite(test_error)) or test_error <= factor * train_error:
        return None
    u = f" {unit}" if unit else ""
    return _warning("*", "generalization",
                    f"{label} error {test_error:.4g}{u} is {test_error / max(train_error, 1e-300):.2g}x the training "
                    f"error {train_error:.4g}{u}: the fit does not generalize within its data")


def format_warning(w: Mapping) -> str:
    """One line for the terminal."""
    return f"warning [{w['kind']}]: {w['message']}"
