"""Q-V fit of the real MFM capacitor trace: CPU time, fit error, held-out sweep errors and model variants.

Run: ``.venv/bin/python bench/bench_fit_qv.py [--variants NAME ...] [--splits seg2,seg4,h60]`` (prints JSON).

* ``default``: ``api.fit_capacitor`` on all of ``../shared/external/scalable_fefet/MFM_scheme1.csv`` (what
  ``fit --qv`` runs: fit, then one refit without each of the six sweeps from the fit's optimum), with wall
  and CPU time, the fit nrmse, every sweep's held-out nrmse and the stated parameters;
* ``--variants``: model variants scored by **cold** fits (the default multi-start) with one part of the
  trace held out and predicted through the whole history: ``segK`` holds out sweep K (0: +3 -> -3 V,
  1: -3 -> +1.2 V, 2: +1.2 -> -1.2 V, 3: -1.2 -> +1.2 V, 4: +1.2 -> -3 V, 5: -3 -> +3 V), ``h60`` the last
  40 % of the samples. Sweeps 2 and 4 (a partial or full negative excursion after a partial positive one)
  stand in for the other waveforms of the film; the variant with the lowest mean held-out error over the
  splits (default: all six sweeps and h60) is the default (never the fit error);
* ``pulse_cross_check``: the default fit's one-pulse switched fraction against ``P_pw_our_own.csv``;
* ``--synthetic``: generated traces (0.2 % noise) of two truths, one in the model and one with a
  reversible ``tanh`` term the default lacks, fitted on a scheme-1-like waveform (+/-3 V with a nested
  +/-1.2 V minor loop) and predicted on a waveform of partial positive and negative excursions, with eps_r
  from the high-field slope (the default) and fitted freely.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fefet_spice import api, presets  # noqa: E402
from fefet_spice.fit.qv import default_free, fit_qv, sweep_segments  # noqa: E402
from fefet_spice.readers.qv import read  # noqa: E402

SRC = Path(__file__).resolve().parents[1].parent / "shared" / "external" / "scalable_fefet" / "MFM_scheme1.csv"

VARIANTS = {  # name -> (structural fields of the base, parameters freed (+) or held (-) against the default)
    "default": ({"beta": 1.0}, set()),  # eps_r held at the high-field slope of the receding branches
    "eps_r_free": ({"beta": 1.0}, {"eps_r"}),  # the default before: eps_r fitted with the rest (~55)
    "beta_free": ({}, {"beta"}),
    "imprint_groups_4": ({"beta": 1.0, "imp_n": 4}, {"imp_sigma"}),
    "imprint_groups_4_beta_free": ({"imp_n": 4}, {"imp_sigma", "beta"}),
    "reversible_tanh": ({"beta": 1.0}, {"q_rev"}),
    "reversible_tanh_beta_free": ({}, {"q_rev", "beta"}),
    "imprint_groups_4_reversible": ({"beta": 1.0, "imp_n": 4}, {"imp_sigma", "q_rev"}),
    "bivariate_grid_16x8_beta_free": ({"n_domains": 128, "ea_cond": 8}, {"beta"}),
    "down_spread": ({"beta": 1.0}, {"ea_sigma_dn"}),
    "lognormal": ({"beta": 1.0, "ea_dist": "lognormal"}, set()),  # no activations near 0 V
}


def _pulse_check(fe, src: Path = SRC) -> float | None:
    from fefet_spice.model.ferro import one_pulse_polarization

    table = src.with_name("P_pw_our_own.csv")
    if not table.exists():
        return None
    pw, amp, pr = np.loadtxt(table, delimiter=",", skiprows=1).T
    model = one_pulse_polarization(fe, amp, pw) / fe.ps
    return round(float(np.sqrt(np.mean((model - pr / np.abs(pr).max()) ** 2)) / 2), 4)


def _split_mask(trace, split: str) -> np.ndarray:
    m = np.ones(len(trace), bool)
    if split.startswith("seg"):
        a, b = sweep_segments(trace)[int(split[3:])]
        m[a:b] = False
    elif split == "h60":
        m[int(round(0.6 * len(trace))):] = False
    else:
        raise SystemExit(f"unknown split {split!r} (segK or h60)")
    return m


def variant_scores(trace, name: str, splits) -> dict:
    """Held-out nrmse [%] of a variant on every split (cold fits)."""
    fields, delta = VARIANTS[name]
    base = replace(presets.get("weight").ferro, **fields)
    free, _ = default_free([trace], set(delta))
    out = {}
    for sp in splits:
        c0 = time.process_time()
        res = fit_qv([trace], base, free, max_nfev=200, masks=[_split_mask(trace, sp)])
        m = res.metrics[0]
        out[sp] = {"heldout_pct": round(100 * m["heldout_nrmse"], 3), "train_pct": round(100 * m["train_nrmse"], 3),
                   "cpu_s": round(time.process_time() - c0, 1), "eps_r": round(res.values["eps_r"], 1),
                   "beta": round(res.values["beta"], 3)}
    out["mean_heldout_pct"] = round(statistics.mean(v["heldout_pct"] for v in out.values()), 3)
    return out


def synthetic_scores(seed: int = 7) -> list[dict]:
    """Fit a scheme-1-like generated trace, predict one with partial +/- excursions (nrmse %)."""
    from fefet_spice.fit.qv import model_charge
    from fefet_spice.generator.mfm import TRUTH_CAP, TRUTH_FERRO, triangle
    from fefet_spice.model.capacitor import charge
    from fefet_spice.readers.qv import QVTrace

    rng = np.random.default_rng(seed)
    cp = replace(TRUTH_CAP, g_leak=0.0)

    def trace(fe, pts, n, name):
        t, v = triangle(np.array(pts, dtype=float), 5e4, n)
        q = charge(fe, cp, t, v)
        return QVTrace(t=t, v=v, q=q + rng.normal(0.0, 0.002 * np.ptp(q), len(q)), source=name)

    truths = {"in the model, eps_r 45": replace(TRUTH_FERRO, beta=1.0, eps_r=45.0),
              "eps_r 35 + reversible 2 uC/cm2 tanh(V / 1.5 V)": replace(TRUTH_FERRO, beta=1.0, eps_r=35.0,
                                                                       q_rev=0.02, v_rev=1.5)}
    base = replace(presets.get("weight").ferro, beta=1.0)
    rows = []
    for name, fe in truths.items():
        fit_tr = trace(fe, [3, -3, 1.2, -1.2, 3], 2400, "scheme1-like")
        other = trace(fe, [3, -3, 1.5, -1.5, 0.8, -2.0, 3], 3000, "partial excursions")
        for label, opts in (("eps_r from the high-field slope", set()), ("eps_r fitted", {"eps_r"})):
            res = fit_qv([fit_tr], base, default_free([fit_tr], opts)[0], max_nfev=200, covariance=False)
            q = model_charge(res.values, base, [other], "up")[0]
            rows.append({"truth": name, "eps_r": label, "eps_r_value": round(res.values["eps_r"], 1),
                         "fit_pct": round(100 * res.metrics[0]["nrmse"], 2),
                         "other_waveform_pct": round(100 * float(np.sqrt(np.mean((q - other.q) ** 2)) / np.ptp(other.q)), 2)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="*", choices=sorted(VARIANTS), help="score these variants (no name: all)")
    ap.add_argument("--splits", default="seg0,seg1,seg2,seg3,seg4,seg5,h60",
                    help="held-out parts for --variants (default: every sweep and h60)")
    ap.add_argument("--no-default", action="store_true", help="skip the default fit")
    ap.add_argument("--data", type=Path, default=SRC, help=f"the Q-V trace (default {SRC})")
    ap.add_argument("--synthetic", action="store_true", help="also score eps_r held / fitted on generated traces")
    args = ap.parse_args()
    src = args.data
    if not src.exists():
        raise SystemExit(f"{src} is absent: the benchmark needs the shared data folder (or --data)")
    trace = read(src, {"q": "C/cm2"})
    rows: dict = {"file": str(src), "samples": len(trace)}
    if not args.no_default:
        t0, c0 = time.perf_counter(), time.process_time()
        fit = api.fit_capacitor([trace], presets.get("weight"), name="mfm_scheme1")
        doc = fit.document
        rows["default"] = {"wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(time.process_time() - c0, 1),
                           "fit_nrmse_pct": round(100 * doc["metrics"]["qv"][0]["nrmse"], 3),
                           "heldout_sweeps_pct": [round(100 * r["heldout_nrmse"], 3)
                                                  for r in doc["metrics"]["sweeps"]["sweeps"]],
                           "parameters": {k: [round(v["value"], 5), v["stderr"] and round(v["stderr"], 5)]
                                          for k, v in doc["parameters"].items()},
                           "warnings": [w["message"] for w in doc["warnings"]],
                           "pulse_cross_check": _pulse_check(fit.fit.ferro, src)}
    if args.variants is not None:
        splits = args.splits.split(",")
        rows["variants"] = {name: variant_scores(trace, name, splits) for name in (args.variants or sorted(VARIANTS))}
    if args.synthetic:
        rows["synthetic"] = synthetic_scores()
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
