"""MSNet on real EMNIST letters (issue 12): vau and float-sparse against the dense software reference.

Data: ``../shared/data/emnist_letters_aeprs.npz`` (a, e, p, r, s), LUT ``luts/weight_ref`` (ngspice
characterization), default schedule (57 epochs, pruning to 74.2 %). Seeds 0..4, each seed its own
training images. Two protocols:

* ``--validation`` (model selection): every class's held-out training images (those not among its
  ``n_train``) are the evaluation set; the test split is never read. All schedule choices were made so.
* default (reported figures): the test split, 100 per class.

``--validation --n-train 105`` selects for the all-images protocol (``--n-train 130``): every class
keeps 105 of its 132 training images and the other 27 are the evaluation set; each seed draws its own
split (repeated random holdout), so seeds 0..5 rotate which images are held out.
``--set KEY=VALUE`` (repeatable) overrides a schedule field (JSON value) for a selection sweep;
``--seeds 0,1,2`` picks the seeds.

Per case: final accuracy of vau and float (mean, std, per seed), final sparsity, dense software accuracy,
RBF-SVM and logistic-regression references on the same training images (raw and with the same shift
augmentation as MSNet: every whole-pixel shift within ``augment_shift``), the VAU fit error by pruning level, and the wall time of
one vau run on one core (median of 3). Run:
``nice .venv/bin/python bench/bench_train_emnist.py [--validation [--n-train N]] [--set K=V] [--seeds S]
[--quick] [--json F]``.
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

from fefet_spice.lut.native import load_lut  # noqa: E402
from fefet_spice.train import data, trainer  # noqa: E402
from fefet_spice.train.schedule import Schedule, from_dict  # noqa: E402

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


def case(lut, n_train: int, seeds, validation: bool, sch: Schedule | None = None) -> dict:
    rows = {"vau": [], "float": []}
    dense, refs, fits, sparsity = [], [], [], []
    for s in seeds:
        ds = data.load(f"emnist-npz:{NPZ}", seed=s, n_train=n_train, validation=validation)
        refs.append(references(ds))
        for rule in rows:
            res = trainer.train(ds, lut, rule, sch or Schedule(), seed=s)
            rows[rule].append(res["final_accuracy"])
            if rule == "vau":
                dense.append(res["dense_software_accuracy"])
                sparsity.append(res["final_sparsity"])
                fits.append(fit_by_sparsity(res))
        print(f"n_train {n_train} seed {s}: vau {rows['vau'][-1]:.3f} float {rows['float'][-1]:.3f} "
              f"dense {dense[-1]:.3f} svm {refs[-1]['svm_rbf']:.3f}", file=sys.stderr, flush=True)

    def stat(v):
        a = np.asarray(v, dtype=float)
        return {"mean": float(a.mean()), "std": float(a.std()), "per_seed": a.tolist()}

    fit_levels = [{k: float(np.mean([f[i][k] for f in fits])) for k in fits[0][i]} for i in range(len(fits[0]))]
    return {"n_train": n_train, "validation": validation, "n_eval_per_class": len(ds.y_test) // 5,
            "vau": stat(rows["vau"]), "float": stat(rows["float"]), "dense_software": stat(dense),
            "final_sparsity": stat(sparsity), "references": {k: stat([r[k] for r in refs]) for k in refs[0]},
            "fit_error_by_sparsity": fit_levels}


def wall_time(lut, repeats: int = 3, sch: Schedule | None = None) -> dict:
    ds = data.load(f"emnist-npz:{NPZ}", seed=0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        trainer.train(ds, lut, "vau", sch or Schedule(), seed=0)
        times.append(time.perf_counter() - t0)
    return {"rule": "vau", "epochs": (sch or Schedule()).epochs, "median_s": statistics.median(times), "times_s": times,
            "target_s": 20.0}


def _arg(name: str, default=None, many: bool = False):
    vals = [sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == name]
    return vals if many else (vals[-1] if vals else default)


def schedule_from_args() -> Schedule:
    """The default schedule with every ``--set KEY=VALUE`` (JSON value) applied."""
    over = {}
    for item in _arg("--set", many=True):
        key, _, val = item.partition("=")
        over[key] = json.loads(val)
    return from_dict({**Schedule().to_dict(), **over}, "--set")


if __name__ == "__main__":
    if not NPZ.is_file():
        sys.exit(f"{NPZ} is absent: this benchmark needs the shared EMNIST letters")
    quick, validation = "--quick" in sys.argv, "--validation" in sys.argv
    seeds = tuple(int(v) for v in _arg("--seeds", "0,1" if quick else "0,1,2,3,4").split(","))
    sch = schedule_from_args()
    lut = load_lut(LUT)
    sizes = (int(_arg("--n-train", 50)),) if validation else (50, 130)
    out = {"dataset": f"emnist-npz:{NPZ.name}", "lut": "luts/weight_ref", "seeds": list(seeds),
           "schedule": sch.to_dict(), "cases": [case(lut, n, seeds, validation, sch) for n in sizes]}
    if not validation:
        out["wall_time"] = wall_time(lut, 1 if quick else 3, sch)
    text = json.dumps(out, indent=1)
    if "--json" in sys.argv:
        Path(sys.argv[sys.argv.index("--json") + 1]).write_text(text + "\n")
    print(text)
