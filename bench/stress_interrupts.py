"""Ctrl-C at random moments of the main job: every run must exit 130 (or 0 if it had finished) within a
few seconds, leave no process and print no traceback.

Starts ``fefet-spice run --quick`` in its own process group N times, sends SIGINT to the group after a
random delay, and reports each run's exit code, time to exit, processes left and any traceback. The runs
write into a temporary folder that is removed at the end. Slow (about 40 s per run): not part of the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _as_on_a_terminal():  # a background job inherits SIGINT ignored or blocked; a terminal's does not
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def one_run(out: Path, delay: float, grace: float = 30.0) -> dict:
    proc = subprocess.Popen([sys.executable, "-m", "fefet_spice.cli", "run", "--quick", "-o", str(out)], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_on_a_terminal)
    time.sleep(delay)
    t0 = time.monotonic()
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=grace)
        took = time.monotonic() - t0
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        took = None
    left = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    ok = took is not None and proc.returncode in (0, 130) and not left and "Traceback" not in err \
        and "ignored" not in err
    return {"delay_s": round(delay, 2), "exit": proc.returncode, "exit_after_s": took, "left": left, "ok": ok,
            "stderr_tail": "" if ok else err[-2000:]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="seed of the random delays")
    ap.add_argument("--runs", type=int, default=12, help="how many interrupted runs")
    ap.add_argument("--min-delay", type=float, default=8.0, help="shortest delay before Ctrl-C [s]")
    ap.add_argument("--max-delay", type=float, default=40.0, help="longest delay before Ctrl-C [s]")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fefet-stress-") as tmp:
        for i in range(args.runs):
            row = one_run(Path(tmp) / f"o{i}", rng.uniform(args.min_delay, args.max_delay))
            rows.append(row)
            took = "never" if row["exit_after_s"] is None else f"{row['exit_after_s']:.2f} s"
            print(f"{i}: Ctrl-C after {row['delay_s']:5.1f} s: exit {row['exit']} after {took}, "
                  f"left {row['left']} {'ok' if row['ok'] else 'BAD'}", flush=True)
            if not row["ok"]:
                print(row["stderr_tail"], flush=True)
    bad = sum(not r["ok"] for r in rows)
    print(f"{len(rows) - bad} of {len(rows)} runs stopped cleanly")
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": args.seed, "runs": rows}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
