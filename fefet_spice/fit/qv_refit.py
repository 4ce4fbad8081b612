"""Leave-one-sweep-out refits of a Q-V fit: honest uncertainty and held-out error on unseen sweeps.

Every trace is cut at its turning points into monotonic sweeps (:func:`.qv.sweep_segments`; a nested
minor-loop waveform such as MFM_scheme1 gives six). For each sweep the fit is repeated without it (from
the full fit's values, the model still running through the whole trace with its history) and the sweep
is predicted (each refit runs the full fit's multi-start from scratch). That gives

* the held-out error of every sweep: the error on a part of the waveform the fit did not see, the
  closest stand-in for another waveform of the same film (variants of the model are chosen on it,
  never on the fit error);
* the refit spread of every free parameter: the stated standard error becomes
  ``max(covariance stderr, jackknife stderr, largest refit deviation from the full fit)``, and a
  parameter whose refits move it far beyond its covariance stderr is named in a warning.
"""
from __future__ import annotations

import math

import numpy as np

from .qv import QVFit, fit_qv, model_charge, qv_warnings, sweep_segments

MIN_SWEEP = 50
"""Sweeps with fewer samples are not held out (too little to predict)."""
REFIT_NFEV = 100
"""Function evaluations per start of one refit. A refit runs the full fit's multi-start from scratch (from
the optimum, or from the winning start alone, it stayed in one local minimum and understated how far
the valley of tau0, alpha, Ea and imprint lets a fit move: cold fits without one part of MFM_scheme1
moved Ea_up 1.8 -> 3.3 V where warm refits moved it 0.2 V)."""


def segment_jobs(traces, masks=None, min_sweep: int = MIN_SWEEP) -> list[tuple[int, int, int, list]]:
    """``(trace index, start, stop, masks)`` of every leave-one-sweep-out refit."""
    base = [np.ones(len(tr), bool) if masks is None else np.asarray(masks[i], bool).copy()
            for i, tr in enumerate(traces)]
    jobs = []
    for i, tr in enumerate(traces):
        for a, b in sweep_segments(tr):
            if b - a < min_sweep:
                continue
            m = [x.copy() for x in base]
            m[i][a:b] = False
            if m[i].sum() >= 20:
                jobs.append((i, a, b, m))
    return jobs


def segment_refits(traces, base, free: set[str], res: QVFit, init: str = "up", masks=None,
                   max_nfev: int = REFIT_NFEV, progress=None, starts=None, pulses=None) -> dict:
    """Refit ``res`` without each sweep in turn; returns ``{"sweeps": [...], "spread": {...}}``.

    ``sweeps``: per held-out sweep its file, sample range, time and voltage span, held-out nrmse (RMS
    error on the sweep / charge range of the trace) and the refit's values. ``spread``: per free
    parameter the jackknife stderr and the largest deviation of a refit from the full fit. ``starts``:
    the multi-start grid of every refit (default: the full fit's, :func:`.qv.default_starts`); ``pulses``:
    the one-pulse table of a joint fit (kept in every refit).
    """
    jobs = segment_jobs(traces, masks)
    rows = []
    for n, (i, a, b, m) in enumerate(jobs):
        if progress:
            progress(n, len(jobs))
        r = fit_qv(traces, base, set(free), init, max_nfev=max_nfev, masks=m, starts=starts, covariance=False,
                   pulses=pulses)
        tr = traces[i]
        q = model_charge(r.values, base, [tr], init)[0] if len(traces) == 1 else model_charge(r.values, base, traces, init)[i]
        err = float(np.sqrt(np.mean((q[a:b] - tr.q[a:b]) ** 2))) / (float(np.ptp(tr.q)) or 1.0)
        rows.append({"file": tr.source, "samples": [int(a), int(b)], "t_s": [float(tr.t[a]), float(tr.t[b - 1])],
                     "v_from": float(tr.v[a]), "v_to": float(tr.v[b - 1]), "heldout_nrmse": err,
                     "values": {k: float(x) for k, x in r.values.items()}})
    spread = {}
    for k in sorted(set(free) | ({"eps_r"} if "eps_r" in res.stderr else set())):  # eps_r: held, re-estimated
        vals = np.array([row["values"][k] for row in rows if k in row["values"]])
        if len(vals) < 2:
            continue
        jack = math.sqrt((len(vals) - 1) / len(vals) * float(np.sum((vals - vals.mean()) ** 2)))
        dev = float(np.max(np.abs(vals - res.values[k])))
        spread[k] = {"jackknife": jack, "max_deviation": dev, "min": float(vals.min()), "max": float(vals.max())}
    return {"sweeps": rows, "spread": spread,
            "heldout_nrmse_mean": float(np.mean([r["heldout_nrmse"] for r in rows])) if rows else None,
            "heldout_nrmse_max": float(np.max([r["heldout_nrmse"] for r in rows])) if rows else None}


def apply_refits(res: QVFit, refits: dict) -> QVFit:
    """State ``max(covariance, jackknife, largest refit deviation)`` as the stderr of every refitted
    parameter, redo the warnings with it and name the parameters the refits move far beyond their
    covariance stderr."""
    res.refits = refits
    extra = []
    for k, s in refits["spread"].items():
        cov = res.stderr.get(k)
        spread = max(s["jackknife"], s["max_deviation"])
        res.stderr[k] = spread if cov is None else max(cov, spread)
        if res.params is not None and k in res.params:
            res.params[k].stderr = res.stderr[k]
        if cov is not None and spread > 3.0 * cov and not k.startswith("q_offset"):
            extra.append({"parameter": k, "kind": "refit_spread",
                          "message": f"{k}: refits without one sweep each range over {s['min']:.4g} .. {s['max']:.4g} "
                                     f"(covariance stderr {cov:.2g}); the stated stderr is that spread"})
    if res.params is not None:
        res.warnings = qv_warnings(res.params, res.one_rate, res.metrics, [m.get("file", "trace") for m in res.metrics])
    res.warnings = res.warnings + extra
    return res
