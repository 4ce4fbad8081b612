"""Export a LUT as NeuroSim ``RealDevice`` parameters (``../shared/SPEC.md`` section 6).

NeuroSim (Chen et al., IEEE TCAD 37 (2018) 3067, DOI 10.1109/TCAD.2018.2789723) models each branch as
``G(P) = B (1 - exp(-P/A)) + G_min`` with ``B = (G_max - G_min)/(1 - exp(-P_max/A))``. One pulse then
changes G by ``dG = (G_min + B - G)(1 - exp(-1/A))``: linear in G, so A, B and P_max follow from a
linear regression of the mean LUT step on G (LTD on the mirrored curve ``G' = G_min + G_max - G``).
When a real branch is not in that form enough for the regression to give ``B > G_max - G_min`` (slow
first pulses, then saturation), A is fitted instead on its mean G-vs-pulse curve with P_max = the pulse
count (``method = "curve"`` in the output).
The nonlinearity label is the closed form ``NL = max_x[G^(x) - x] / 0.0989949`` on the normalized curve.
NeuroSim looks the label up in a table with 0.01 resolution and truncates the index, so the emitted
label carries a small epsilon away from zero; a depression branch that saturates at G_min (large steps
first, the mirror of a saturating LTP) is NeuroSim's negative-A convention and gets a negative NL_LTD.

Load it: copy the values of ``RealDevice`` into the ``RealDevice::RealDevice`` constructor of NeuroSim's
``Cell.cpp`` (``neurosim_realdevice.txt`` holds ready-to-paste C++ assignments), see docs/lut_exports.md.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .core import SynapseLUT

NL_NORM = 0.0989949
"""max_x[G^(x) - x] of the curve NeuroSim labels NL = 1."""
NL_EPS = 1e-4
"""Added to |NL| so that NeuroSim's truncating table lookup lands on the intended 0.01 bin."""


@dataclass(frozen=True)
class BranchFit:
    """NeuroSim exponential fit of one branch (conductances [S], A and P_max in pulses)."""

    a: float
    """Nonlinearity constant A [pulses]; inf for a linear branch."""
    b: float
    """Scale B [S]."""
    p_max: float
    """Pulses from G_min to G_max [pulses]."""
    nl: float
    """Closed-form nonlinearity label (unsigned, no epsilon)."""
    r2: float
    """Coefficient of determination of the fit (step vs G, or G vs pulse for the fallback)."""
    method: str = "regression"
    """'regression' (step linear in G, the default) or 'curve' (fallback: G vs pulse of the mean branch)."""


def nl_label(a_over_pmax: float, n: int = 20001) -> float:
    """Closed-form label ``max_x[G^(x) - x] / 0.0989949`` of the normalized curve with A/P_max given."""
    if not math.isfinite(a_over_pmax) or a_over_pmax <= 0:
        return 0.0
    x = np.linspace(0.0, 1.0, n)
    g = -np.expm1(-x / a_over_pmax) / -math.expm1(-1.0 / a_over_pmax)
    return float(np.max(g - x) / NL_NORM)


def a_for_label(nl: float) -> float:
    """Inverse of :func:`nl_label`: A/P_max of the curve with label ``nl`` (> 0)."""
    from scipy.optimize import brentq

    return float(brentq(lambda r: nl_label(r) - nl, 1e-3, 1e4, xtol=1e-12, rtol=1e-12))


def fit_branch(g, dg, g_min: float, g_max: float) -> BranchFit:
    """Regress ``dg = c0 - c1 g`` (a rising branch) and return A, B, P_max and the NL label."""
    g, dg = np.asarray(g, float), np.asarray(dg, float)
    ok = np.isfinite(g) & np.isfinite(dg)
    if ok.sum() < 3:
        raise DataError("NeuroSim fit: fewer than 3 finite points on the branch")
    if not np.mean(dg[ok]) > 0:
        raise DataError("NeuroSim fit: the branch does not move G in its direction (mean step <= 0)")
    slope, c0 = np.polyfit(g[ok], dg[ok], 1)
    pred = c0 + slope * g[ok]
    ss = float(np.sum((dg[ok] - dg[ok].mean()) ** 2))
    r2 = 1.0 - float(np.sum((dg[ok] - pred) ** 2)) / ss if ss > 0 else 1.0
    span = g_max - g_min
    c1 = -slope
    if c1 <= 0 or c1 >= 1:
        step = float(np.mean(dg[ok]))
        return BranchFit(a=math.inf, b=math.inf, p_max=span / step, nl=0.0, r2=r2)
    a = -1.0 / math.log1p(-c1)
    b = c0 / c1 - g_min
    if b <= span:  # the fitted curve saturates below G_max: P_max is where it gets closest
        raise DataError(f"NeuroSim fit: B = {b:.4g} S does not exceed G_max - G_min = {span:.4g} S "
                        "(branch saturates before G_max; widen the pulse count)")
    p_max = -a * math.log1p(-span / b)
    return BranchFit(a=a, b=b, p_max=p_max, nl=nl_label(a / p_max), r2=r2)


def fit_curve(g) -> BranchFit:
    """Fallback fit of a rising mean branch ``g`` (G after 0..P pulses) [S]: P_max = P, endpoints fixed,
    A by least squares on the normalized curve (the usual NeuroSim fitting of measured data)."""
    from scipy.optimize import minimize_scalar

    g = np.asarray(g, float)
    g = g[np.isfinite(g)]
    p_max = g.size - 1
    span = g[-1] - g[0]
    if p_max < 2 or not span > 0:
        raise DataError("NeuroSim fit: the mean branch does not move G in its direction")
    x = np.arange(g.size) / p_max
    y = (g - g[0]) / span

    def model(log_r):
        r = math.exp(log_r)
        return -np.expm1(-x / r) / -math.expm1(-1.0 / r)

    best = minimize_scalar(lambda lr: float(np.sum((model(lr) - y) ** 2)), bounds=(math.log(1e-3), math.log(1e3)),
                           method="bounded", options={"xatol": 1e-10})
    r = math.exp(best.x)
    ss = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(best.fun) / ss if ss > 0 else 1.0
    a = r * p_max
    return BranchFit(a=a, b=span / -math.expm1(-1.0 / r), p_max=float(p_max), nl=nl_label(r), r2=r2, method="curve")


def fit_lut(lut: SynapseLUT, up: int | None = None, down: int | None = None) -> dict[str, BranchFit]:
    """LTP and LTD fits of the mean LUT (LTD on the mirrored curve). A branch whose steps are not
    linear enough in G for the regression to give B > G_max - G_min (e.g. slow first pulses, then
    saturation) falls back to :func:`fit_curve` on its mean trajectory."""
    from .core import mean_branch

    up = lut.kind_index(+1) if up is None else up
    down = lut.kind_index(-1) if down is None else down
    g = lut.g_grid
    out = {}
    for name, k, gg, dg, sign in (("ltp", up, g, lut.dg_mean[up], +1),
                                  ("ltd", down, lut.g_min + lut.g_max - g, -lut.dg_mean[down], -1)):
        try:
            out[name] = fit_branch(gg, dg, lut.g_min, lut.g_max)
        except DataError as exc:
            if "B =" not in str(exc):
                raise
            traj = lut.trajectories[k]
            branch = mean_branch(lut, sign)
            if branch.size < 3 or not np.isfinite(traj).any():
                raise
            out[name] = fit_curve(branch if sign > 0 else -branch)
    return out


def _label(nl: float, sign: int) -> float:
    return sign * (nl + NL_EPS) if nl > 0 else 0.0


def realdevice(lut: SynapseLUT, up: int | None = None, down: int | None = None) -> dict:
    """NeuroSim ``RealDevice`` fields plus the fits, as a JSON-ready dict (SI units)."""
    up = lut.kind_index(+1) if up is None else up
    down = lut.kind_index(-1) if down is None else down
    fits = fit_lut(lut, up, down)
    span = lut.g_max - lut.g_min
    sel = [k for k in (up, down)]
    rel = lut.dg_std[sel] / span
    op = lut.meta.get("operating_point", {})
    ku, kd = lut.kinds[up], lut.kinds[down]
    dev = {
        "maxConductance": lut.g_max, "minConductance": lut.g_min,
        "avgMaxConductance": lut.g_max, "avgMinConductance": lut.g_min,
        "readVoltage": float(op.get("v_read_d", 0.1)), "readPulseWidth": float(op.get("t_read", 1e-6)),
        "writeVoltageLTP": abs(ku.amplitude), "writeVoltageLTD": abs(kd.amplitude),
        "writePulseWidthLTP": ku.width, "writePulseWidthLTD": kd.width,
        "maxNumLevelLTP": max(1, int(round(fits["ltp"].p_max))),
        "maxNumLevelLTD": max(1, int(round(fits["ltd"].p_max))),
        "NL_LTP": _label(fits["ltp"].nl, +1), "NL_LTD": _label(fits["ltd"].nl, -1),
        "nonlinearWrite": True, "nonIdenticalPulse": False,
        "sigmaCtoC": float(np.median(rel)), "sigmaDtoD": 0.0,
        "readNoise": bool(lut.read_noise > 0), "sigmaReadNoise": lut.read_noise / span,
    }
    fit = {name: {"A_pulses": f.a, "B_S": f.b, "P_max_pulses": f.p_max,
                  "A_over_P_max": f.a / f.p_max if math.isfinite(f.a) else None, "NL_exact": f.nl, "r2": f.r2,
                  "method": f.method}
           for name, f in fits.items()}
    return {"format": "neurosim-realdevice", "RealDevice": dev, "fit": fit,
            "notes": "sigmaCtoC and sigmaReadNoise are fractions of (maxConductance - minConductance); "
                     "sigmaCtoC is the median LUT step std (cycle-to-cycle and device-to-device lumped)."}


def cpp_snippet(data: dict) -> str:
    """C++ assignments for NeuroSim's ``RealDevice::RealDevice`` (Cell.cpp)."""
    d = data["RealDevice"]
    lines = ["// generated by fefet_spice export-lut --format neurosim; paste into RealDevice::RealDevice"]
    for key, value in d.items():
        if key == "sigmaCtoC":
            lines.append(f"sigmaCtoC = {value!r} * (maxConductance - minConductance);")
        elif key == "sigmaReadNoise":
            lines.append(f"sigmaReadNoise = {value!r};  // fraction of the range")
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'};")
        else:
            lines.append(f"{key} = {value!r};")
    return "\n".join(lines) + "\n"


def write_neurosim(lut: SynapseLUT, folder: str | os.PathLike) -> list[Path]:
    """Write ``neurosim_realdevice.json`` and ``neurosim_realdevice.txt`` (C++) into ``folder``."""
    from ..io.atomic import write_json, write_text

    data = realdevice(lut)
    folder = Path(folder)
    return [write_json(folder / "neurosim_realdevice.json", data),
            write_text(folder / "neurosim_realdevice.txt", cpp_snippet(data))]
