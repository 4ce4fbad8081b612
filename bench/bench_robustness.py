"""Robustness figures of issue 16: CSV header check vs column count, and how fast Ctrl-C / SIGTERM end a
running ``characterize --backend ngspice`` (and whether any process is left in its group).

    .venv/bin/python bench/bench_robustness.py [--repeats 5] [--no-signals]

Prints JSON: header check time per column count (median of repeats) and, per signal, the median time
from the signal to the exit of the CLI and the count of live processes left in its process group.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def header_times(repeats: int) -> dict:
    from fefet_spice.readers.own_csv import parse_header

    out = {}
    for n in (1_000, 10_000, 100_000):
        cells = [f"c{i} [V]" for i in range(n)]
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            parse_header(cells, "x.csv", 1)
            runs.append(time.perf_counter() - t0)
        out[str(n)] = statistics.median(runs)
    return out


def _alive(pgid: int) -> int:
    ps = subprocess.run(["ps", "-o", "stat=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return sum(1 for s in ps.split() if not s.startswith("Z"))


def signal_once(sig: int) -> tuple[float, int, int]:
    tmp = Path(tempfile.mkdtemp(prefix="fefet_sig_"))
    try:
        cache = tmp / "cache"
        cmd = [sys.executable, "-m", "fefet_spice.cli", "characterize", "--backend", "ngspice", "--n-devices", "100",
               "-o", str(tmp / "c"), "--cache", str(cache)]
        proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,   # SIGINT as on a terminal (a background job ignores it)
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 120
        while not list(cache.glob("job_*.npz")) and time.monotonic() < deadline:
            time.sleep(0.1)
        t0 = time.monotonic()
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # a terminal's Ctrl-C reaches the whole foreground group
        else:
            proc.send_signal(sig)
        proc.wait(60)
        dt = time.monotonic() - t0
        time.sleep(0.3)
        return dt, _alive(proc.pid), proc.returncode
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-signals", action="store_true")
    a = ap.parse_args(argv)
    res: dict = {"header_check_s": header_times(a.repeats)}
    if not a.no_signals:
        for name in ("SIGINT", "SIGTERM"):
            runs = [signal_once(getattr(signal, name)) for _ in range(a.repeats)]
            res[name] = {"median_exit_s": statistics.median(r[0] for r in runs),
                         "max_exit_s": max(r[0] for r in runs), "processes_left": sum(r[1] for r in runs),
                         "exit_codes": sorted({r[2] for r in runs})}
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
