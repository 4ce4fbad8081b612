"""Generic lmfit stage runner: residual, bounds from the fit spec, uncertainties and goodness of fit."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from ..errors import FefetError
from .spec import ParamSpec, lmfit_parameters


@dataclass
class StageResult:
    """Outcome of one stage."""

    name: str
    values: dict[str, float]
    """All current values after the stage (varied and fixed)."""
    stderr: dict[str, float | None]
    """1-sigma uncertainty of each varied parameter (None when lmfit could not estimate it)."""
    correlations: dict[str, dict[str, float]]
    metrics: dict[str, float | int | str]
    model_y: np.ndarray
    data_y: np.ndarray
    params: object = None
    """lmfit ``Parameters`` after the stage (bounds, stderr, correlations), for :mod:`.warnings`."""


def goodness(model_y: np.ndarray, data_y: np.ndarray) -> dict[str, float]:
    """RMSE and coefficient of determination R^2 in the units of the stage target."""
    res = model_y - data_y
    ss_tot = float(np.sum((data_y - data_y.mean()) ** 2))
    rmse = float(np.sqrt(np.mean(res ** 2)))
    r2 = 1.0 - float(np.sum(res ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"rmse": rmse, "r2": r2, "n_points": int(len(data_y))}


def run_stage(name: str, spec: Mapping[str, ParamSpec], values: Mapping[str, float],
              evaluate: Callable[[dict], tuple[np.ndarray, np.ndarray]], scale: float = 1.0,
              unit: str = "", max_nfev: int = 400) -> StageResult:
    """Least-squares fit of one stage.

    ``evaluate(values) -> (model_y, data_y)``; the residual is ``(model_y - data_y) / scale``.
    Returns updated values, stderr, correlations and metrics (``rmse`` and ``r2`` in ``unit``).
    """
    import lmfit

    params = lmfit_parameters(spec, values)
    fixed = {k: v for k, v in values.items() if k not in params}

    def current(p) -> dict:
        return {**fixed, **{k: float(p[k].value) for k in p}}

    def residual(p):
        m, d = evaluate(current(p))
        r = (m - d) / scale
        return np.where(np.isfinite(r), r, 1e3)

    try:
        out = lmfit.minimize(residual, params, method="leastsq", max_nfev=max_nfev, epsfcn=1e-7)
    except (ValueError, FloatingPointError) as exc:
        raise FefetError(f"fit stage {name!r} failed: {exc}") from exc
    vals = current(out.params)
    m, d = evaluate(vals)
    varied = [k for k in out.params if out.params[k].vary]
    stderr = {k: _finite(out.params[k].stderr) for k in varied}
    corr = {k: {j: round(float(c), 4) for j, c in (out.params[k].correl or {}).items()} for k in varied}
    metrics = {**goodness(m, d), "unit": unit, "nfev": int(out.nfev), "success": bool(out.success),
               "varied": varied}
    return StageResult(name, vals, stderr, corr, metrics, m, d, out.params)


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
