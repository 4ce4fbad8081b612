"""MSNet on-chip training benchmark (issue 6): accuracy of every update rule over seeds, and wall time.

On the MNIST stand-in (``../shared/data/mnist.npz``, classes 2, 3, 5, 6, 8, 50 + 100 per class) with the
weight-preset LUT (numpy-model characterization) and the full schedule (10 + 47 epochs, pruning to
74.2 %, over-pruning, regrowth), for seeds 0..4: final test accuracy of float, cell, vau, vau-const,
manhattan, rank1, plus vau and cell with write-and-verify. Then the wall time of one full vau run on
one core (median of 3). Schedule: the defaults before issue 12
(``schedule.PAPER_AS_FIRST_REPRODUCED``; ``bench/bench_train_emnist.py`` measures the current ones).
Run: ``.venv/bin/python bench/bench_train.py [--quick] [--json F]`` (``--quick``: seeds 0 and 1, one timing run).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from _cli import check_json_folder  # noqa: E402

from fefet_spice import presets  # noqa: E402

NPZ = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
CASES = (("float", {}), ("cell", {}), ("vau", {}), ("vau-const", {}), ("manhattan", {}), ("rank1", {}),
         ("vau", {"verify": True}), ("cell", {"verify": True}))


def accuracy_table(seeds, dataset: str) -> list[dict]:
    # imported here (before any timing): --help and a misspelt option answer without loading scipy
    from fefet_spice.characterize import lut_from_model
    from fefet_spice.train import data, trainer
    from fefet_spice.train.schedule import PAPER_AS_FIRST_REPRODUCED, Schedule

    lut = lut_from_model(presets.get("weight"))
    sets = {s: data.load(dataset, seed=s) for s in seeds}
    rows = []
    for rule, extra in CASES:
        sch = replace(Schedule(), **PAPER_AS_FIRST_REPRODUCED, **extra)
        res = [trainer.train(sets[s], lut, rule, sch, seed=s) for s in seeds]
        acc = np.array([r["final_accuracy"] for r in res])
        e28 = np.array([r["epochs"][27]["accuracy"] for r in res])
        fit = [r["epochs"][-1]["fit_error_active"] for r in res]
        rows.append({"rule": rule, "verify": bool(extra.get("verify")), "seeds": list(seeds),
                     "final_accuracy": acc.tolist(), "mean": float(acc.mean()), "std": float(acc.std()),
                     "min": float(acc.min()), "max": float(acc.max()), "epoch28_mean": float(e28.mean()),
                     "final_sparsity": float(np.mean([r["final_sparsity"] for r in res])),
                     "operations_per_epoch": res[0]["epochs"][-1]["operations"],
                     "pulses_per_epoch": float(np.mean([r["epochs"][-1]["pulses"] for r in res])),
                     "fit_error_active_last": None if fit[0] is None else float(np.mean(fit)),
                     "wall_s_mean": float(np.mean([r["wall_time_s"] for r in res]))})
        print(f"{rule:10s} verify={extra.get('verify', False)!s:5s} final {100 * acc.mean():5.1f} "
              f"± {100 * acc.std():4.1f} % (min {100 * acc.min():.1f}, max {100 * acc.max():.1f}); "
              f"epoch 28 {100 * e28.mean():.1f} %", file=sys.stderr, flush=True)
    return rows


def wall_time(dataset: str, repeats: int = 3) -> dict:
    # imported here, before the timing (see accuracy_table)
    from fefet_spice.characterize import lut_from_model
    from fefet_spice.train import data, trainer
    from fefet_spice.train.schedule import PAPER_AS_FIRST_REPRODUCED, Schedule

    lut = lut_from_model(presets.get("weight"))
    ds = data.load(dataset, seed=0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        trainer.train(ds, lut, "vau", replace(Schedule(), **PAPER_AS_FIRST_REPRODUCED), seed=0)
        times.append(time.perf_counter() - t0)
    return {"rule": "vau", "epochs": Schedule().epochs, "median_s": statistics.median(times),
            "times_s": times, "target_s": 20.0}


def parse_args(argv=None):
    """The command line (an unknown or misspelt option is an error, never a silent full run)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="seeds 0 and 1 (default 0..4) and one timing run (default 3)")
    ap.add_argument("--json", default=None, help="also write the result to this file")
    args = ap.parse_args(argv)
    check_json_folder(ap, args.json)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    quick = args.quick
    dataset = f"npz:{NPZ}" if NPZ.is_file() else "digits"
    seeds = (0, 1) if quick else (0, 1, 2, 3, 4)
    out = {"dataset": dataset, "lut": "preset weight (numpy-model LUT)",
           "accuracy": accuracy_table(seeds, dataset), "wall_time": wall_time(dataset, 1 if quick else 3)}
    text = json.dumps(out, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
