"""Q-V fit of the real MFM capacitor trace (issue 11): wall time, CPU time and normalized RMS error.

Run: ``.venv/bin/python bench/bench_fit_qv.py [--repeats 3] [--variants]`` (prints JSON; medians).

* ``full``: fit on all of ``../shared/external/scalable_fefet/MFM_scheme1.csv`` (the ``fit --qv`` default
  free set), nrmse over the trace;
* ``holdout``: fit on the first 60 % of the samples, model run through the whole trace with its history,
  nrmse on the fitted part and on the held-out last 40 % (the only number used to choose model variants);
* ``pulse_cross_check``: the full fit's one-pulse switched fraction (``one_pulse_polarization / Ps``)
  against ``P_pw_our_own.csv`` (Pr / max|Pr|, same authors' HfZrO2), RMS over the table in units of the
  full swing (2): a test of the kinetics outside the single ramp rate they were fitted at;
* ``--variants``: the held-out nrmse of the candidate variants (up/down correlation held at 1, beta held
  at 1, both held, leakage freed).
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

from fefet_spice import presets  # noqa: E402
from fefet_spice.fit.qv import default_free, fit_qv  # noqa: E402
from fefet_spice.readers.qv import read  # noqa: E402

SRC = Path(__file__).resolve().parents[1].parent / "shared" / "external" / "scalable_fefet" / "MFM_scheme1.csv"


def _pulse_check(fe) -> float | None:
    import numpy as np

    from fefet_spice.model.ferro import one_pulse_polarization

    table = SRC.with_name("P_pw_our_own.csv")
    if not table.exists():
        return None
    pw, amp, pr = np.loadtxt(table, delimiter=",", skiprows=1).T
    model = one_pulse_polarization(fe, amp, pw) / fe.ps
    return round(float(np.sqrt(np.mean((model - pr / np.abs(pr).max()) ** 2)) / 2), 4)


def _run(trace, base, free, stop=None):
    t0, c0 = time.perf_counter(), time.process_time()
    res = fit_qv([trace], base, free, max_nfev=200, fit_stop=None if stop is None else [stop])
    return {"pulse_cross_check": _pulse_check(res.ferro),"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2),
            "nfev": res.nfev, **{k: round(v, 5) for k, v in res.metrics[0].items() if "nrmse" in k},
            "warnings": res.warnings,
            "values": {k: round(v, 5) for k, v in res.values.items() if k in res.stderr}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--variants", action="store_true")
    args = ap.parse_args()
    if not SRC.exists():
        raise SystemExit(f"{SRC} is absent: the benchmark needs the shared data folder")
    trace = read(SRC, {"q": "C/cm2"})
    base = presets.get("weight").ferro
    free, _ = default_free([trace])
    stop = int(round(0.6 * len(trace)))
    rows = {}
    runs = [_run(trace, base, free) for _ in range(args.repeats)]
    rows["full"] = {**runs[-1], "wall_s": statistics.median(r["wall_s"] for r in runs),
                    "cpu_s": statistics.median(r["cpu_s"] for r in runs)}
    rows["holdout"] = _run(trace, base, free, stop)
    if args.variants:
        rows["variant_corr_held_at_1"] = _run(trace, replace(base, ea_corr=1.0), free - {"ea_corr"}, stop)
        rows["variant_beta_held_at_1"] = _run(trace, replace(base, beta=1.0), free - {"beta"}, stop)
        rows["variant_beta_and_corr_held_at_1"] = _run(trace, replace(base, beta=1.0, ea_corr=1.0),
                                                       free - {"beta", "ea_corr"}, stop)
        rows["variant_leak_free"] = _run(trace, base, free | {"g_leak"}, stop)
    print(json.dumps({"file": str(SRC), "samples": len(trace), "holdout_from_sample": stop, **rows}, indent=1))


if __name__ == "__main__":
    main()
