"""Run the benchmarks one after another (``make bench``); the long ngspice ones only with ``--all``.

Each benchmark prints JSON; this script only sequences them and says how to record the figures in
BENCHMARKS.md (median figures and the command). Quick set: model, fit, train, the fast-path replay of a
training run's array updates. ``--all`` adds the
ngspice array benchmark (8x8 and 16x16; 32x32 takes about 6 minutes more), the 64-device ngspice
characterization (pool vs Dask vs serial, about 5 minutes), the programming-scheme arrays (4x4 to
16x16, about 5-10 minutes) and MSNet on the shared EMNIST letters (5 seeds, 50 and 130 per class, about
10 minutes). Run: ``.venv/bin/python bench/run_all.py [--all]`` (or ``make bench`` for the quick set).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = [["bench_model.py"], ["bench_fit.py", "--repeats", "3"], ["bench_train.py", "--quick"],
         ["bench_replay.py", "--modes", "fast"]]
LONG = [["bench_spice.py", "--sizes", "8", "16", "--mac-sizes", "8"],
        ["bench_characterize.py", "--backend", "ngspice", "--n-devices", "64", "--repeats", "1"],
        ["bench_schemes.py", "--sizes", "4", "8", "16"], ["bench_train_emnist.py"]]


def parse_args(argv=None):
    """The command line (an unknown or misspelt option is an error, never a silent run of the quick set)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--all", action="store_true",
                    help="add the long benchmarks (ngspice arrays and characterization, schemes, EMNIST)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    runs = QUICK + (LONG if parse_args(argv).all else [])
    for args in runs:
        cmd = [sys.executable, str(HERE / args[0]), *args[1:]]
        print(f"$ {' '.join(cmd)}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.run(cmd).returncode
        print(f"# {args[0]}: exit {rc}, {time.monotonic() - t0:.1f} s wall", flush=True)
        if rc:
            return rc
    print("Record the medians and the commands in BENCHMARKS.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
