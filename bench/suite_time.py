"""Sum a pytest `--durations=0` log per test set: the default set (`make test`, not marked slow) and the
slow set (`make test-all` adds it), and estimate the wall time on N quiet cores.

    .venv/bin/python -m pytest -q --durations=0 [-n 2] > log.txt; .venv/bin/python bench/suite_time.py log.txt

The estimate is (sum of the set's durations) / cores + the longest single test's excess over that share
+ worker start-up; durations taken on a loaded machine are inflated by the load, and tests that wait
(timeouts, sleeps, subprocesses) do not shrink with more cores, so read it as an upper bound on a quiet
machine only when the log itself came from a quiet one.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^([0-9.]+)s (call|setup|teardown)\s+(\S+)")


def slow_ids() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "slow", "-p", "no:xdist"],
                         capture_output=True, text=True, cwd=ROOT).stdout
    return {ln.strip() for ln in out.splitlines() if "::" in ln}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", type=Path)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--startup", type=float, default=10.0, help="xdist worker start-up and collection, s")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    per_test: dict[str, float] = defaultdict(float)
    for ln in args.log.read_text().splitlines():
        m = LINE.match(ln)
        if m:
            per_test[m.group(3)] += float(m.group(1))
    slow = slow_ids()
    sets = {"default (make test)": {k: v for k, v in per_test.items() if k not in slow},
            "slow (make test-all adds)": {k: v for k, v in per_test.items() if k in slow}}
    for name, tests in sets.items():
        total = sum(tests.values())
        longest = max(tests.values(), default=0.0)
        est = max(total / args.cores, longest) + args.startup
        print(f"{name}: {len(tests)} tests with durations, sum {total:.0f} s, longest {longest:.0f} s; "
              f"estimated wall on {args.cores} cores {est:.0f} s")
        for k, v in sorted(tests.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"    {v:7.2f} s  {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
