"""Wall time of a 64-device Monte Carlo characterization on 2 cores: process pool vs Dask LocalCluster
vs serial (issue 5). Each device is one job (64 up + 64 down pulses, masked and half-selected probes).

Run: ``.venv/bin/python bench/bench_characterize.py [--backend numpy|ngspice] [--n-devices 64]
[--repeats 3]`` (prints JSON; median of repeats). Dask runs on a LocalCluster of 2 single-thread worker
processes; its start-up is timed separately from the characterization. Every executor must give the
same LUT for the same seed, which the script checks.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fefet_spice import presets  # noqa: E402
from fefet_spice.characterize import CharConfig, characterize  # noqa: E402


def _timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("numpy", "ngspice"), default="numpy")
    ap.add_argument("--n-devices", type=int, default=64)
    ap.add_argument("--n-pulses", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    cfg = CharConfig(presets.get("weight"), presets.get("sparsity"), n_devices=args.n_devices,
                     n_pulses=args.n_pulses, backend=args.backend, seed=0)
    rows, luts = [], {}
    med, times, res = _timed(lambda: characterize(cfg, executor="serial"), args.repeats)
    rows.append({"executor": "serial", "median_s": med, "times_s": times})
    luts["serial"] = res.lut
    med, times, res = _timed(lambda: characterize(cfg, executor="pool", workers=args.workers), args.repeats)
    rows.append({"executor": f"pool ({args.workers} spawn processes)", "median_s": med, "times_s": times})
    luts["pool"] = res.lut
    from distributed import LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        startup = time.perf_counter() - t0
        med, times, res = _timed(lambda: characterize(cfg, executor="dask", scheduler=cl.scheduler_address),
                                 args.repeats)
    rows.append({"executor": f"dask LocalCluster ({args.workers} processes x 1 thread)", "median_s": med,
                 "times_s": times, "cluster_startup_s": startup})
    luts["dask"] = res.lut
    same = all(np.array_equal(luts["serial"].dg_quantiles, lut.dg_quantiles) for lut in luts.values())
    print(json.dumps({"backend": args.backend, "n_devices": args.n_devices, "n_pulses": args.n_pulses,
                      "cpu_count": os.cpu_count(), "load_avg": os.getloadavg(), "identical_luts": same,
                      "results": rows}, indent=1))


if __name__ == "__main__":
    main()
