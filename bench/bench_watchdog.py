"""Benchmark: CPU of a normal ngspice deck with and without the progress watchdog, both back ends.

    PYTHONPATH=. python bench/bench_watchdog.py [--size 4] [--width 1e-7] [--r-line 200] [--repeats 4]

The deck is one fidelity-matrix case (:mod:`fefet_spice.spice.fidelity`, random kept cells, pruned cells
mid-range) as the tightened reference deck. Runs alternate (subprocess plain, subprocess watched, shared
plain, shared watched) ``--repeats`` times; CPU is the ngspice child's plus this process's (the shared
library runs in it, and so do the watchdog's threads). Prints the median and every run.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fefet_spice import presets  # noqa: E402
from fefet_spice.spice import fidelity as fm, runner  # noqa: E402
from fefet_spice.spice.array import array_deck  # noqa: E402
from fefet_spice.spice.device import binned_device  # noqa: E402


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--width", type=float, default=1e-7)
    ap.add_argument("--r-line", type=float, default=200.0)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--budget", type=float, default=300.0, help="CPU budget of the watched runs [s]")
    args = ap.parse_args(argv)
    weight, sparsity = (presets.nominal(presets.get(n)) for n in ("weight", "sparsity"))
    state, sched, _, cfg = fm.build(fm.Case(args.size, args.width, args.r_line, "random", "mid"))
    deck = array_deck(binned_device(weight, cfg.bins_weight), binned_device(sparsity, cfg.bins_sparsity), state,
                      sched, cfg, fm.REFERENCE)
    runs: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for backend in ("subprocess", "shared"):
            for budget in (None, args.budget):
                c0, p0 = _children_cpu(), time.process_time()
                runner.run(deck, backend=backend, budget=budget)
                cpu = (_children_cpu() - c0) + (time.process_time() - p0)
                runs.setdefault(f"{backend} {'watched' if budget else 'plain'}", []).append(cpu)
    for key, v in runs.items():
        print(f"{key}: median {statistics.median(v):.2f} s CPU, runs " + " ".join(f"{x:.2f}" for x in v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
