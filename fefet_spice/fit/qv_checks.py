"""Checks of capacitor Q-V traces before any work, and of a prediction once it is made.

Before a fit (``fit --qv``, the capacitor stage of ``run --qv``) every trace must have a voltage that
varies over at least :data:`MIN_FIELD` across the film (a tenth of the ~1 MV/cm coercive field of
HfZrO2: less switches no domain, and a constant V made the fit's least squares fail inside numpy), a
charge that varies, and :data:`MIN_SAMPLES` samples. Before a prediction (``predict``) the charge of
every trace must vary: its error is measured against the Q range. After a prediction, an RMS error above
``max_nrmse`` times the trace's Q range (default 1: the prediction misses by more than the whole range)
fails loudly: a wrong ``--q-unit`` / ``--area`` or a parameter file of another film. Every refusal is
one sentence naming the file.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import DataError, ParamError

MIN_SAMPLES = 20
"""Fewest samples of a trace the Q-V fit accepts."""
MIN_FIELD = 1e7
"""Smallest voltage range of a fitted trace per film thickness [V/m] (0.1 MV/cm; 0.1 V across 10 nm)."""
Q_STEADY = 1e-6
"""A charge range below this fraction of the largest |Q| is no variation (rounding of a constant)."""
MAX_NRMSE = 1.0
"""Default largest prediction error accepted, as a fraction of the trace's Q range (1 = 100 %)."""


def check_charge_varies(source: str, q: np.ndarray, what: str, part: str = "") -> None:
    """DataError unless the charge ``q`` [C/m^2] of trace ``source`` varies (``what``: 'fit' or 'prediction')."""
    big, span = float(np.max(np.abs(q))), float(np.ptp(q))
    if span > Q_STEADY * big:
        return
    level = (f"every{part} sample is {100 * q[0]:.6g} uC/cm^2" if span == 0 else
             f"all{part} samples within {100 * span:.2g} uC/cm^2 of {100 * q[0]:.6g} uC/cm^2")
    reason = ("a Q-V fit needs the charge the voltage moves" if what == "fit" else
              "there is no Q range to measure a prediction against")
    raise DataError(f"{source}: the charge does not vary ({level}): {reason}; check the Q column")


def check_fit_traces(traces, t_fe: float, masks=None) -> None:
    """Refuse, before the fit, a trace a Q-V fit cannot use (``t_fe``: film thickness [m]; ``masks``: the
    samples fitted, e.g. without a held-out end)."""
    for i, tr in enumerate(traces):
        keep = np.ones(len(tr), bool) if masks is None else np.asarray(masks[i], bool)
        part = "" if keep.all() else " fitted"
        v, q = tr.v[keep], tr.q[keep]
        if len(v) < MIN_SAMPLES:
            raise DataError(f"{tr.source}: only {len(v)}{part} samples; a Q-V fit needs at least {MIN_SAMPLES}")
        span = float(np.ptp(v))
        if span == 0:
            raise DataError(f"{tr.source}: the voltage does not vary (every{part} sample is {v[0]:g} V): a Q-V fit "
                            "needs a voltage sweep; check the V column (columns t, V, Q)")
        if span < MIN_FIELD * t_fe:
            raise DataError(f"{tr.source}: the voltage{part and ' of the fitted samples'} spans only {span:.3g} V "
                            f"({span / t_fe / 1e8:.2g} MV/cm across the {t_fe * 1e9:.3g} nm film), too little for a "
                            f"Q-V loop (at least {MIN_FIELD * t_fe:.2g} V; HfZrO2 switches near 1 MV/cm): check the "
                            "V column and its unit")
        check_charge_varies(tr.source, q, "fit", part)


def check_predict_traces(traces) -> None:
    """Refuse, before the prediction, a trace whose error would have no scale."""
    for tr in traces:
        check_charge_varies(tr.source, tr.q, "prediction")


def check_max_nrmse(max_nrmse) -> float | None:
    """``max_nrmse`` as a float (None: accept any error); ParamError unless a positive number."""
    if max_nrmse is None:
        return None
    if isinstance(max_nrmse, bool) or not isinstance(max_nrmse, (int, float)) or not max_nrmse > 0 \
            or math.isnan(max_nrmse):
        raise ParamError(f"--max-nrmse: must be a positive number (1 = 100 % of the Q range), got {max_nrmse!r}")
    return float(max_nrmse)


def check_prediction(metrics, max_nrmse: float | None, source: str) -> None:
    """DataError naming the first trace predicted with an RMS error above ``max_nrmse`` of its Q range
    (``source``: the parameters used, for the message)."""
    if max_nrmse is None:
        return
    for m in metrics:
        if not m["nrmse"] <= max_nrmse:
            raise DataError(
                f"{m['file']}: the prediction misses by {100 * m['nrmse']:.1f} % of the trace's Q range "
                f"(RMS error {100 * m['rmse']:.3g} uC/cm^2 over a range of {100 * m['q_range']:.3g} uC/cm^2, more "
                f"than the {100 * max_nrmse:.3g} % allowed): check --q-unit and --area, and that {source} is a "
                "capacitor fit (fit --qv) of this film (predict --max-nrmse accepts a larger error)")
