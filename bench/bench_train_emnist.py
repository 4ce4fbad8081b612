"""MSNet on real EMNIST letters under a training protocol: vau, float and cell, each beside the same
run with the on-chip update switched off.

Data: ``../shared/data/emnist_letters_aeprs.npz`` (a, e, p, r, s), LUT ``luts/weight_ref`` (ngspice
characterization), the protocol's default schedule (``--protocol paper``, the default: dense software
pretraining, transfer of the dense network, pruning to 52.3 / 63.7 / 66.8 / 74.2 % at epochs 11 / 17 /
23 / 26, over-pruning +12.7 % at 29 and regrowth 12.5 % at 38 on the array, to epoch 57). Seeds 0..4,
each seed its own training images. Two evaluation sets:

* ``--validation`` (model selection): every class's held-out training images (those not among its
  ``n_train``) are the evaluation set; the test split is never read. All schedule choices were made so.
* default (reported figures): the test split, 100 per class.

Per rule and seed: ``final_accuracy``, ``accuracy_update_off``, ``onchip_contribution``,
``onchip_recovery``, ``accuracy_after_transfer``, the accuracy before over-pruning and after each
event, final sparsity, update pulses, epochs that fired; summaries (mean, std, per seed) and the
targets (vau >= 88 % at 75 +- 3 %, within 2 points of float and cell, final >= before over-pruning,
recovery >= 0.75). Without ``--validation`` also the CPU time of one vau run (with its update-off
companion) on one core. ``--set KEY=VALUE`` (repeatable) overrides a schedule field (JSON value);
``--seeds 0,1,2`` picks the seeds; ``--rules vau,float`` the rules; ``--references`` adds RBF-SVM and
logistic-regression references on the same images. Run:
``nice .venv/bin/python bench/bench_train_emnist.py [--protocol P] [--validation [--n-train N]] [--set K=V]
[--seeds S] [--rules R] [--json F] [--npz PATH]`` (``--npz``: the letters file when ``../shared`` is not
beside the checkout).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from _cli import positive_int, seed_list  # noqa: E402

from fefet_spice.lut.native import load_lut  # noqa: E402
from fefet_spice.train import data, trainer  # noqa: E402
from fefet_spice.train.schedule import Schedule, for_protocol, from_dict  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NPZ = ROOT.parent / "shared" / "data" / "emnist_letters_aeprs.npz"
LUT = ROOT / "luts" / "weight_ref"


def references(ds) -> dict:
    """RBF SVM and logistic regression on the same training images, raw and shift-augmented."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    def flat(x):
        return x.reshape(len(x), -1)

    k = Schedule().augment_shift
    pad = np.pad(ds.x_train, ((0, 0), (k, k), (k, k)))
    moves = range(-k, k + 1)
    shifted = np.concatenate([pad[:, k + dy: k + dy + 20, k + dx: k + dx + 20] for dy in moves for dx in moves])
    y9 = np.tile(ds.y_train, len(moves) ** 2)
    out = {}
    for name, make in (("svm_rbf", lambda: SVC()), ("logreg", lambda: LogisticRegression(max_iter=2000))):
        out[name] = float(make().fit(flat(ds.x_train), ds.y_train).score(flat(ds.x_test), ds.y_test))
        out[name + "_shift_aug"] = float(make().fit(flat(shifted), y9).score(flat(ds.x_test), ds.y_test))
    return out


def fit_by_sparsity(res) -> list[dict]:
    """Mean VAU fit errors over the on-chip epochs at each sparsity level."""
    groups: dict[float, list] = {}
    for e in res["epochs"]:
        if e["fit_error_active"] is not None:
            groups.setdefault(round(e["sparsity"], 3), []).append(e)
    return [{"sparsity": s, "fit_error_active": float(np.mean([e["fit_error_active"] for e in g])),
             "fit_error_all": float(np.mean([e["fit_error_all"] for e in g])),
             "fit_error_dense": float(np.mean([e["fit_error_dense"] for e in g]))}
            for s, g in sorted(groups.items())]


KEYS = ("final_accuracy", "accuracy_update_off", "onchip_contribution", "onchip_recovery",
        "accuracy_after_transfer", "dense_software_accuracy", "final_sparsity", "update_pulses",
        "prune_reset_pulses", "epochs_fired")


def _before_overprune(res) -> float | None:
    ev = [e for e in res["accuracy_pruning_events"] if e["kind"] == "overprune"]
    return ev[0]["before"] if ev else None


def stat(v):
    a = np.asarray([x for x in v if x is not None], dtype=float)
    if not a.size:
        return None
    return {"mean": float(a.mean()), "std": float(a.std()), "per_seed": a.tolist()}


def case(lut, n_train: int, seeds, validation: bool, sch: Schedule, rules, refs: bool = False, array=None) -> dict:
    runs = {r: [] for r in rules}
    references_ = []
    for s in seeds:
        ds = data.load(f"emnist-npz:{NPZ}", seed=s, n_train=n_train, validation=validation)
        if refs:
            references_.append(references(ds))
        for rule in rules:
            res = trainer.train(ds, lut, rule, sch, seed=s, array_params=array)
            row = {k: res[k] for k in KEYS}
            row.update(before_overprune=_before_overprune(res), events=res["accuracy_pruning_events"],
                       fit_error_by_sparsity=fit_by_sparsity(res) if rule == "vau" else None)
            runs[rule].append(row)
            print(f"n_train {n_train} seed {s} {rule}: final {row['final_accuracy']:.3f} update off "
                  f"{row['accuracy_update_off']:.3f} after transfer {row['accuracy_after_transfer']:.3f} "
                  f"before over-pruning {row['before_overprune']} dense {row['dense_software_accuracy']} "
                  f"update pulses {row['update_pulses']}", file=sys.stderr, flush=True)
    out = {"n_train": n_train, "validation": validation, "n_eval_per_class": len(ds.y_test) // 5,
           "rules": {r: {k: stat([x[k] for x in rows]) for k in (*KEYS, "before_overprune")}
                     for r, rows in runs.items()}, "runs": runs}
    if refs:
        out["references"] = {k: stat([r[k] for r in references_]) for k in references_[0]}
    out["targets"] = targets(runs)
    return out


def targets(runs) -> dict:
    """The issue's targets, each with the numbers it was judged on."""
    v = runs.get("vau")
    if not v:
        return {}
    m = {r: float(np.mean([x["final_accuracy"] for x in rows])) for r, rows in runs.items()}
    sp = float(np.mean([x["final_sparsity"] for x in v]))
    rec = [x["onchip_recovery"] for x in v if x["onchip_recovery"] is not None]
    after_ge = [x["final_accuracy"] >= x["before_overprune"] for x in v if x["before_overprune"] is not None]
    t = {"vau_ge_88_at_75pm3": {"vau": m["vau"], "sparsity": sp, "met": m["vau"] >= 0.88 and abs(sp - 0.75) <= 0.03},
         "onchip_recovery_ge_0.75": {"mean": float(np.mean(rec)) if rec else None,
                                     "met": bool(rec) and float(np.mean(rec)) >= 0.75},
         "final_ge_before_overprune": {"seeds_met": int(sum(after_ge)), "seeds": len(after_ge),
                                       "mean_final": m["vau"],
                                       "mean_before": float(np.mean([x["before_overprune"] for x in v
                                                                     if x["before_overprune"] is not None] or [0])),
                                       "met": bool(after_ge) and all(after_ge)}}
    for other in ("float", "cell"):
        if other in m:
            t[f"within_2_of_{other}"] = {"diff": m["vau"] - m[other], "met": m["vau"] >= m[other] - 0.02}
    return t


def wall_time(lut, repeats: int = 3, sch: Schedule | None = None) -> dict:
    """CPU time (one core, user + system of this process) of one vau run with its update-off companion."""
    ds = data.load(f"emnist-npz:{NPZ}", seed=0)
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        trainer.train(ds, lut, "vau", sch or Schedule(), seed=0)
        times.append(time.process_time() - t0)
    return {"rule": "vau", "epochs": (sch or Schedule()).epochs, "median_cpu_s": statistics.median(times),
            "cpu_times_s": times, "target_s": 30.0, "includes_update_off_run": True}


def parse_args(argv=None):
    """The command line (an unknown or misspelt option is an error, never a silent run on the test split)."""
    import argparse

    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--protocol", default="paper", help="training protocol (paper, software-pruned, scratch)")
    ap.add_argument("--validation", action="store_true",
                    help="evaluate on held-out training images (model selection); the test split is not read")
    ap.add_argument("--n-train", type=positive_int, default=50, help="training images per class")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a schedule field (JSON value); repeatable")
    ap.add_argument("--seeds", type=seed_list, default=None, help="comma-separated seeds (default 0,1,2,3,4; --quick: 0,1)")
    ap.add_argument("--rules", default="vau,float,cell", help="comma-separated update rules")
    ap.add_argument("--references", action="store_true", help="add RBF-SVM and logistic-regression references")
    ap.add_argument("--quick", action="store_true", help="two seeds and one timing repeat")
    ap.add_argument("--json", default=None, help="also write the result to this file")
    ap.add_argument("--array-params", default=None, metavar="FILE",
                    help="a weight FeFET (fit or parameter file) whose compact model is the cells instead of the "
                         "LUT (array in the training loop; the LUT still chooses the pulse counts)")
    ap.add_argument("--array-variation", default=None, metavar="PRESET_OR_FILE",
                    help="with --array-params: every cell a device sample with this device's variation (e.g. weight)")
    ap.add_argument("--lut", default=str(LUT.relative_to(ROOT)), metavar="FOLDER",
                    help="native LUT folder (default luts/weight_ref; luts/weight_ref_traffic: steps under "
                         "training traffic)")
    ap.add_argument("--npz", default=str(NPZ), help="the EMNIST letters file when ../shared is not beside the checkout")
    args = ap.parse_args(argv)
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2, 3, 4])
    if len(set(seeds)) != len(seeds):
        ap.error(f"--seeds: expected distinct seeds, got {seeds}")
    args.seed_list = tuple(seeds)
    unknown = [r for r in args.rules.split(",") if r not in trainer.RULES]
    if unknown or not args.rules:
        ap.error(f"--rules: unknown rule(s) {', '.join(unknown) or repr(args.rules)}; "
                 f"choose from {', '.join(trainer.RULES)}")
    return args


def schedule_from_args(args) -> Schedule:
    """The protocol's default schedule with every ``--set KEY=VALUE`` (JSON value) applied."""
    over = {}
    for item in args.set:
        key, sep, val = item.partition("=")
        if not sep:
            sys.exit(f"--set {item!r}: expected KEY=VALUE")
        try:
            over[key] = json.loads(val)
        except json.JSONDecodeError:
            sys.exit(f"--set {item!r}: the value must be JSON (a string needs quotes: {key}='\"{val}\"')")
    base = for_protocol(args.protocol).to_dict()
    return from_dict({**base, **over}, "--set")


if __name__ == "__main__":
    args = parse_args()
    NPZ = Path(args.npz)                        # the shared EMNIST letters elsewhere than ../shared
    if not NPZ.is_file():
        sys.exit(f"{NPZ} is absent: this benchmark needs the shared EMNIST letters")
    quick, validation = args.quick, args.validation
    seeds = args.seed_list
    rules = args.rules.split(",")
    sch = schedule_from_args(args)
    lut = load_lut(Path(args.lut) if Path(args.lut).exists() else ROOT / args.lut)  # (from the checkout too)
    n_train = args.n_train
    array = None
    if args.array_params:
        from fefet_spice.api.train import array_cells
        from fefet_spice.train.bounds import check_cells_fire_the_luts_pulses
        array = array_cells(args.array_params, args.array_variation)
        check_cells_fire_the_luts_pulses(array, lut, args.lut)
    out = {"dataset": f"emnist-npz:{NPZ.name}", "lut": args.lut, "seeds": list(seeds),
           "protocol": sch.protocol, "schedule": sch.to_dict(),
           "device_model": (f"array:{args.array_params}" + (f"+variation:{args.array_variation}"
                                                             if args.array_variation else "")
                            if args.array_params else "lut"),
           "cases": [case(lut, n_train, seeds, validation, sch, rules, args.references, array)]}
    if not validation:
        out["wall_time"] = wall_time(lut, 1 if quick else 3, sch)
    text = json.dumps(out, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)
