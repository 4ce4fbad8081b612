"""NeuroSim's weight-update model in numpy (pure numerics): label table, fit and ``Write`` of one pulse.

The equations are those of MLP+NeuroSim V3.0 (``Cell.cpp`` ``RealDevice::Write``, ``formula.cpp``
``getParamA``/``NonlinearWeight``/``InvNonlinearWeight``) and DNN+NeuroSim V2.1 (``wage_quantizer.py``):

* ``A = getParamA(NL) * maxNumLevel``, where ``getParamA`` looks up A/P_max of label ``NL`` in a table
  with 0.01 resolution at index ``(int)(|NL| * 100) - 1`` (the index is truncated); a negative label
  gives a negative A (LTD saturating at G_min);
* ``B = (G_max - G_min) / (1 - exp(-maxNumLevel / A))``, ``G(x) = B (1 - exp(-x / A)) + G_min``;
* one write inverts G to a pulse position x, moves x by the pulse count, adds
  ``N(0, sigmaCtoC) * sqrt(|numPulse|)`` (absolute, in siemens) and clips to [G_min, G_max].

The table itself is not copied: :func:`table_a_over_pmax` recomputes it from its definition
(``NL = max_x[Ĝ(x) - x] / 0.0989949`` on the normalized curve), matching NeuroSim's printed entries to
about 1e-6 relative.
"""
from __future__ import annotations

import math

import numpy as np

NL_NORM = 0.0989949
"""max_x[Ĝ(x) - x] of the curve NeuroSim labels NL = 1."""
NL_EPS = 1e-4
"""Added to |NL| so that NeuroSim's truncating index lands on the intended 0.01 bin."""


def nl_label(a_over_pmax: float, n: int = 20001) -> float:
    """Closed-form label ``max_x[Ĝ(x) - x] / 0.0989949`` of the normalized curve with A/P_max given."""
    if not math.isfinite(a_over_pmax) or a_over_pmax <= 0:
        return 0.0
    x = np.linspace(0.0, 1.0, n)
    g = -np.expm1(-x / a_over_pmax) / -math.expm1(-1.0 / a_over_pmax)
    return float(np.max(g - x) / NL_NORM)


def a_for_label(nl: float) -> float:
    """Inverse of :func:`nl_label`: A/P_max of the curve with label ``nl`` (> 0)."""
    from scipy.optimize import brentq

    return float(brentq(lambda r: nl_label(r) - nl, 1e-3, 1e4, xtol=1e-12, rtol=1e-12))


def table_a_over_pmax(label: float) -> float:
    """Signed A/P_max NeuroSim's ``getParamA`` returns for ``label`` (index truncated, 0.01..9.00)."""
    index = min(max(int(abs(label) * 100) - 1, 0), 899)
    return math.copysign(a_for_label((index + 1) / 100.0), label if label != 0 else 1.0)


def normalized_curve(x, r: float) -> np.ndarray:
    """NeuroSim's normalized curve through (0, 0) and (1, 1) with A/P_max = ``r`` (> 0)."""
    return -np.expm1(-np.asarray(x, float) / r) / -math.expm1(-1.0 / r)


def fit_label(y: np.ndarray) -> tuple[int, float, float]:
    """Label of a rising normalized branch ``y`` (y[0] = 0, y[-1] = 1, one point per measured pulse), as
    MLP_NeuroSim V3.0's ``nonlinear_fit.m`` fits it: pulse axis normalized by the measured pulse count,
    endpoints fixed, A chosen to match the points. Returns (label bin k, i.e. label k/100, exact label,
    rms error of the chosen bin); the bin is the table entry with the least squared error."""
    from scipy.optimize import minimize_scalar

    y = np.asarray(y, float)
    x = np.arange(y.size) / (y.size - 1)
    sse = lambda r: float(np.sum((normalized_curve(x, r) - y) ** 2))  # noqa: E731
    best = minimize_scalar(lambda lr: sse(math.exp(lr)), bounds=(math.log(0.02), math.log(200.0)),
                           method="bounded", options={"xatol": 1e-10})
    exact = nl_label(math.exp(best.x))
    k0 = min(max(int(exact * 100), 1), 900)
    cands = sorted({k0, min(k0 + 1, 900), max(k0 - 1, 1)})
    errs = {k: sse(a_for_label(k / 100.0)) for k in cands}
    k = min(errs, key=errs.get)
    return k, exact, math.sqrt(errs[k] / y.size)


def curve_g(x, a: float, n: int, g_min: float, g_max: float):
    """G at pulse position x on NeuroSim's curve (A signed, n = maxNumLevel) [S]."""
    b = (g_max - g_min) / -math.expm1(-n / a)
    return b * -np.expm1(-np.asarray(x, float) / a) + g_min


def write_pulses(g, n_pulses: int, a: float, n: int, g_min: float, g_max: float, sigma: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Trajectories [S] of cells starting at ``g`` under ``|n_pulses|`` single-pulse writes (sign = LTP
    or LTD), each as NeuroSim's ``RealDevice::Write`` with numPulse = +-1; shape (|n_pulses| + 1, cells)."""
    g = np.array(g, float, copy=True)
    step = 1 if n_pulses > 0 else -1
    b = (g_max - g_min) / -math.expm1(-n / a)
    out = [g.copy()]
    for _ in range(abs(n_pulses)):
        x = -a * np.log1p(-(g - g_min) / b)
        g = b * -np.expm1(-(x + step) / a) + g_min
        if sigma:
            g = g + sigma * rng.standard_normal(g.shape)
        g = np.clip(g, g_min, g_max)
        out.append(g.copy())
    return np.array(out)


def reach(sigma: float, dev: dict, cells: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Mean shortfall, as fractions of the range, of LTP from G_min after maxNumLevelLTP pulses (below
    G_max) and of LTD from G_max after maxNumLevelLTD pulses (above G_min)."""
    g_min, g_max = dev["minConductance"], dev["maxConductance"]
    span = g_max - g_min
    up = write_pulses(np.full(cells, g_min), dev["maxNumLevelLTP"], dev["A_LTP"], dev["maxNumLevelLTP"],
                      g_min, g_max, sigma, np.random.default_rng(seed))
    down = write_pulses(np.full(cells, g_max), -dev["maxNumLevelLTD"], dev["A_LTD"], dev["maxNumLevelLTD"],
                        g_min, g_max, sigma, np.random.default_rng(seed + 1))
    return (g_max - up[-1].mean()) / span, (down[-1].mean() - g_min) / span


def c2c_sigma(sigma0: float, dev: dict, tol: float = 0.01, iters: int = 30) -> float:
    """Largest absolute cycle-to-cycle sigma <= ``sigma0`` [S] with which NeuroSim's device reaches G_max
    and G_min (mean within ``tol`` of the range) in its pulse counts; bisection on common random numbers."""
    if sigma0 <= 0 or max(reach(sigma0, dev)) <= tol:
        return float(max(sigma0, 0.0))
    lo, hi = 0.0, float(sigma0)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if max(reach(mid, dev)) <= tol:
            lo = mid
        else:
            hi = mid
    return lo
