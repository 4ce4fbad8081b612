"""Export a LUT for NeuroSim (``../shared/SPEC.md`` section 6): MLP+NeuroSim V3.0 and DNN+NeuroSim V2.1.

NeuroSim (Chen et al., IEEE TCAD 37 (2018) 3067, DOI 10.1109/TCAD.2018.2789723) models each branch as
``G(P) = B (1 - exp(-P/A)) + G_min`` with ``B = (G_max - G_min)/(1 - exp(-P_max/A))`` and labels A by a
nonlinearity ``NL`` (table with 0.01 resolution, :mod:`.neurosim_model`). The export:

* G_min/G_max are the ends of the mean LTP and LTD branches (the curve NeuroSim draws is a mean device),
  P_max (``maxNumLevelLTP/LTD``) is the measured pulse count of each branch;
* the labels are fitted over the measured pulses the way NeuroSim's ``nonlinear_fit.m`` does (pulse axis
  normalized by the pulse count, both endpoints fixed), and the table bin with the least squared error
  is emitted (plus 1e-4, since NeuroSim truncates the index); LTD saturating at G_min gets a negative label;
* ``sigmaCtoC`` (absolute, per pulse) is the LUT's median single-pulse ΔG std, lowered only if needed for
  NeuroSim's device (noise added after the step, then clipped) to still reach G_max and G_min within 1 %
  of the range in the pulse counts (:func:`.neurosim_model.c2c_sigma`);
* ``sigmaReadNoise`` is relative, as NeuroSim's ``Read()`` uses it (I = V G (1 + N(0, sigma))): the
  LUT's absolute read noise divided by the rms conductance of a uniform weight population.

Outputs (:func:`write_neurosim`): ``neurosim_realdevice.json`` (every value, the fits, the checks),
``neurosim_realdevice_constructor.cpp`` (a complete ``RealDevice::RealDevice`` for MLP+NeuroSim V3.0's
``Cell.cpp``), ``neurosim_v21.txt`` (DNN+NeuroSim V2.1 ``train.py`` and ``Param.cpp`` lines) and, given a
NeuroSim checkout, ``neurosim.patch`` (``patch -p1``). See docs/lut_exports.md.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .core import SynapseLUT
from .neurosim_model import NL_EPS, NL_NORM, a_for_label, nl_label  # noqa: F401  (public re-exports)

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


def _branches(lut: SynapseLUT) -> tuple[np.ndarray, np.ndarray]:
    from .core import mean_branch

    up, down = mean_branch(lut, +1), mean_branch(lut, -1)
    if up.size < 3 or down.size < 3:
        raise DataError("NeuroSim export: the LUT needs mean LTP and LTD trajectories of at least 2 pulses")
    if not (up[-1] > up[0] and down[-1] < down[0]):
        raise DataError("NeuroSim fit: a mean branch does not move G in its direction")
    return up, down


def realdevice(lut: SynapseLUT, up: int | None = None, down: int | None = None) -> dict:
    """NeuroSim fields (V3.0 ``RealDevice`` and V2.1 ``train.py``/``Param.cpp``), fits and checks, as a
    JSON-ready dict (SI units)."""
    from . import neurosim_model as nm

    up = lut.kind_index(+1) if up is None else up
    down = lut.kind_index(-1) if down is None else down
    g_up, g_down = _branches(lut)
    g_min, g_max = float(min(g_up[0], g_down[-1])), float(max(g_up[-1], g_down[0]))
    span = g_max - g_min
    n_ltp, n_ltd = g_up.size - 1, g_down.size - 1
    k_ltp, nl_ltp, rms_ltp = nm.fit_label((g_up - g_min) / span)
    k_ltd, nl_ltd, rms_ltd = nm.fit_label((g_max - g_down) / span)
    label_ltp, label_ltd = round(k_ltp / 100 + NL_EPS, 6), -round(k_ltd / 100 + NL_EPS, 6)
    a_ltp = nm.table_a_over_pmax(label_ltp) * n_ltp
    a_ltd = nm.table_a_over_pmax(label_ltd) * n_ltd
    model = {"minConductance": g_min, "maxConductance": g_max, "maxNumLevelLTP": n_ltp, "maxNumLevelLTD": n_ltd,
             "A_LTP": a_ltp, "A_LTD": a_ltd}
    sigma0 = float(np.median(lut.dg_std[[up, down]]))
    sigma = nm.c2c_sigma(sigma0, model)
    g_rms = math.sqrt((g_max ** 3 - g_min ** 3) / (3.0 * span))
    op = lut.meta.get("operating_point", {})
    ku, kd = lut.kinds[up], lut.kinds[down]
    dev = {
        "maxConductance": g_max, "minConductance": g_min,
        "readVoltage": float(op.get("v_read_d", 0.1)), "readPulseWidth": float(op.get("t_read", 1e-6)),
        "writeVoltageLTP": abs(ku.amplitude), "writeVoltageLTD": abs(kd.amplitude),
        "writePulseWidthLTP": ku.width, "writePulseWidthLTD": kd.width,
        "maxNumLevelLTP": n_ltp, "maxNumLevelLTD": n_ltd,
        "cmosAccess": True, "FeFET": True, "nonlinearIV": False, "nonlinearWrite": True, "nonIdenticalPulse": False,
        "readNoise": bool(lut.read_noise > 0), "sigmaReadNoise": lut.read_noise / g_rms,
        "NL_LTP": label_ltp, "NL_LTD": label_ltd, "sigmaDtoD": 0.0,
        "sigmaCtoC": sigma, "sigmaCtoC_fraction": sigma / span, "conductanceRangeVar": False,
    }
    derived = {"paramALTP": a_ltp, "paramALTD": a_ltd,
               "paramBLTP": span / -math.expm1(-n_ltp / a_ltp), "paramBLTD": span / -math.expm1(-n_ltd / a_ltd),
               "conductance": g_min, "avgMaxConductance": g_max, "avgMinConductance": g_min}
    short_up, short_down = nm.reach(sigma, model)
    cell_bit = int(math.floor(math.log2(max(n_ltp, n_ltd))))
    v21 = {"train_py": {"wl_weight": cell_bit, "wl_grad": cell_bit, "cellBit": cell_bit,
                        "max_level": max(n_ltp, n_ltd), "c2cVari": sigma / span, "d2dVari": 0.0,
                        "nonlinearityLTP": label_ltp, "nonlinearityLTD": label_ltd,
                        "onoffratio": g_max / g_min if g_min > 0 else 1e9},
           "param_cpp": {"memcelltype": 3, "accesstype": 1, "cellBit": cell_bit,
                         "resistanceOn": 1.0 / g_max, "resistanceOff": 1.0 / g_min if g_min > 0 else 1e18,
                         "maxNumLevelLTP": n_ltp, "maxNumLevelLTD": n_ltd,
                         "writeVoltage": max(abs(ku.amplitude), abs(kd.amplitude)),
                         "writePulseWidth": max(ku.width, kd.width),
                         "readVoltage": dev["readVoltage"], "readPulseWidth": dev["readPulseWidth"]}}
    fits = {"ltp": {"label_bin": k_ltp / 100, "NL_exact": nl_ltp, "rms_error_of_range": rms_ltp, "pulses": n_ltp},
            "ltd": {"label_bin": -k_ltd / 100, "NL_exact": -nl_ltd, "rms_error_of_range": rms_ltd, "pulses": n_ltd}}
    try:
        fits["regression"] = {name: {"A_pulses": f.a, "B_S": float(f.b), "P_max_pulses": f.p_max, "r2": f.r2,
                                     "method": f.method} for name, f in fit_lut(lut, up, down).items()}
    except DataError as exc:
        fits["regression"] = {"error": str(exc)}
    return {"format": "neurosim-realdevice", "version": 2, "RealDevice": dev, "derived": derived,
            "DNN_NeuroSim_V2_1": v21, "fit": fits,
            "checks": {"sigmaCtoC_lut_median_S": sigma0, "ltp_shortfall_of_range": short_up,
                       "ltd_shortfall_of_range": short_down, "read_noise_abs_S": lut.read_noise,
                       "sigmaReadNoise_at_Gmax": lut.read_noise / g_max},
            "notes": "sigmaCtoC is absolute [S] per pulse (NeuroSim scales it by sqrt(|numPulse|)); "
                     "sigmaReadNoise is relative (I = V G (1 + N(0, sigma))); device-to-device and "
                     "cycle-to-cycle spread are lumped into sigmaCtoC (the LUT does not separate them); "
                     "V2.1's c2cVari is the same sigma as a fraction of the range, applied once per update."}


def write_neurosim(lut: SynapseLUT, folder: str | os.PathLike, source: str | os.PathLike | None = None,
                   origin: str = "") -> list[Path]:
    """Write ``neurosim_realdevice.json``, ``neurosim_realdevice_constructor.cpp`` and ``neurosim_v21.txt``
    into ``folder``; with ``source`` (a NeuroSim checkout) also ``neurosim.patch`` for ``patch -p1``."""
    from ..io.atomic import write_json, write_text
    from . import neurosim_text as nt

    data = realdevice(lut)
    folder = Path(folder)
    header = nt.provenance_line(lut, origin)
    texts = {"neurosim_realdevice_constructor.cpp": nt.constructor(data, header),
             "neurosim_v21.txt": nt.v21_text(data, header)}
    if source is not None:  # built before anything is written: a bad checkout leaves no partial export
        texts["neurosim.patch"] = nt.source_patch(Path(source), data, header)
    return [write_json(folder / "neurosim_realdevice.json", data)] + [write_text(folder / name, text)
                                                                      for name, text in texts.items()]
