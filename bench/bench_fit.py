"""Wall time of the full staged fit of one device (read files, six lmfit stages, no figures).

Target (issue 4): under 60 s on 2 cores. Run: ``.venv/bin/python bench/bench_fit.py [--device sparsity]
[--repeats N]`` (prints JSON, median of repeats; defaults: weight, 3). Data: the committed reference set
``measurements/``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from _cli import positive_int  # noqa: E402

from fefet_spice import presets  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run(device: str = "weight", repeats: int = 3) -> dict:
    # imported here (before any timing): --help and a misspelt option answer without loading lmfit/scipy
    from fefet_spice.fit.extract import fit_device
    from fefet_spice.readers import read_dir

    times, stage_times = [], []
    for _ in range(repeats):
        marks = {}
        t0 = time.perf_counter()
        ms = read_dir(ROOT / "measurements" / device)

        def report(stage, res, marks=marks, t0=t0):
            if res is not None:
                marks[stage] = time.perf_counter() - t0
        out = fit_device(ms, presets.get(device), report=report)
        times.append(time.perf_counter() - t0)
        stage_times.append(marks)
    med = statistics.median(times)
    k = times.index(med)
    return {"device": device, "n_files": len(ms), "repeats": repeats, "median_s": med, "all_s": times,
            "stage_end_s": stage_times[k], "target_s": 60.0,
            "nfev": {s.name: s.metrics["nfev"] for s in out.stages}}


def parse_args(argv=None):
    """The command line (an unknown or misspelt option is an error, never a silent run with the defaults)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--device", default="weight", choices=presets.names(),
                    help="preset whose committed measurements/<device> set is fitted (default: weight)")
    ap.add_argument("--repeats", type=positive_int, default=3,
                    help="fits to time; the median is reported (default: 3)")
    return ap.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    print(json.dumps(run(args.device, args.repeats), indent=1))


if __name__ == "__main__":
    main()
