"""What the on-chip phase contributes on real EMNIST letters (issue 12), validation images only.

For each seed (its own split, ``--validation``: held-out *training* images, the test split is never
read) and each configuration, one run of the default schedule (pretraining is identical across
configurations of a seed, so it is computed once and its RNG state restored: results equal separate
runs). Per run: ``pretrained_accuracy`` (8-bit software weights before transfer), the accuracy read
from the array right after transfer and at the end, each averaged over READS read-noise draws (own
RNG, so the run is unchanged; ``*_mean_read``), the trainer's ``final_accuracy`` (one read), and
the pulses / firing operations of the on-chip *updates* only (counted at
:func:`fefet_spice.train.rules.update_layer`, so transfer programming and pruning resets are excluded;
a firing operation is a column or row step with a non-zero operator). Configurations:
``vau`` / ``float`` (defaults), ``vau_off`` / ``float_off`` (on-chip step ``lr = lr_final = 1e-9``
pulses: every update rounds to no pulse; pruning events still run), ``vau_feedback``
(``vau_feedback``: the missed part of each update carries to the next), ``vau_stochastic``
(``vau_stochastic``: unbiased stochastic rounding of the operators), ``vau_verify`` (write-and-verify
after every layer update; its pulses count with the update's), ``vau_readapt`` (re-adaptation: step
1 pulse in each pruning epoch and the two after it, the default cosine otherwise) and
``vau_readapt_stochastic`` (the same with stochastic rounding).
Run: ``nice .venv/bin/python bench/bench_onchip_contribution.py --n-train 50|105 [--seeds 0,1,2,3,4]
[--json F]``.
"""
from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fefet_spice.lut.native import load_lut  # noqa: E402
from fefet_spice.train import data, msnet, rules, trainer  # noqa: E402
from fefet_spice.train.schedule import Schedule  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NPZ = ROOT.parent / "shared" / "data" / "emnist_letters_aeprs.npz"
OFF = {"lr": 1e-9, "lr_final": 1e-9}
CONFIGS = {"vau": ("vau", {}), "vau_off": ("vau", OFF), "float": ("float", {}), "float_off": ("float", OFF),
           "vau_feedback": ("vau", {"vau_feedback": True}), "vau_stochastic": ("vau", {"vau_stochastic": True}),
           "vau_verify": ("vau", {"verify": True}),
           "vau_readapt": ("vau", {"_readapt": 1.0}),
           "vau_readapt_stochastic": ("vau", {"_readapt": 1.0, "vau_stochastic": True})}
READS = 20
"""Read-noise draws averaged in the ``*_mean_read`` accuracies (the trainer's own figures use one)."""
READAPT_EPOCHS = 3
"""``_readapt``: the on-chip step (pulses) in each pruning epoch and the READAPT_EPOCHS - 1 after it."""

_orig_pretrain, _orig_build, _orig_update = trainer.pretrain, trainer.build_layers, trainer.update_layer
STATE = {"cache": {}, "ds": None, "key": None, "count": None, "after_transfer": None}


def _pretrain(ds, sch, rng, on_epoch=None):
    key = STATE["key"]
    if key not in STATE["cache"]:
        out = _orig_pretrain(ds, sch, rng, on_epoch)
        STATE["cache"] = {key: (copy.deepcopy(out), copy.deepcopy(rng.bit_generator.state))}
    out, state = STATE["cache"][key]
    rng.bit_generator.state = copy.deepcopy(state)
    return copy.deepcopy(out)


def mean_read_accuracy(layers, reads: int = READS) -> float:
    """Accuracy on the evaluation images averaged over ``reads`` read-noise draws (own RNG)."""
    rng, ds = np.random.default_rng(12345), STATE["ds"]
    return float(np.mean([msnet.accuracy([l.read(rng) for l in layers], ds.x_test, ds.y_test) for _ in range(reads)]))


def _build(w_pre, lut, rule, sch, rng):
    layers, stats = _orig_build(w_pre, lut, rule, sch, rng)
    STATE["after_transfer"], STATE["layers"] = mean_read_accuracy(layers), layers
    return layers, stats


def _update(layer, delta_w, rule, rng, **kw):
    rec = [] if rule == "vau" and kw.get("record") is None and not kw.get("verify") else None
    if rec is not None:
        kw["record"] = rec
    st = _orig_update(layer, delta_w, rule, rng, **kw)
    c = STATE["count"]
    c["pulses"] += int(st["pulses"])
    c["updates"] += 1
    c["updates_firing"] += int(st["pulses"] > 0)
    for step, n_plus, n_minus, *_ in rec or []:
        nz = (n_plus != 0) | (n_minus != 0)
        c["operations_firing"] += int(nz.sum()) if step == "col" else int(nz.any())
    return st


trainer.pretrain, trainer.build_layers, trainer.update_layer = _pretrain, _build, _update


def run(ds, lut, seed: int, name: str) -> dict:
    rule, over = CONFIGS[name]
    STATE["count"] = {"pulses": 0, "updates": 0, "updates_firing": 0, "operations_firing": 0}
    over = dict(over)
    boost = over.pop("_readapt", None)
    sch = replace(Schedule(), **over)
    base = Schedule.onchip_lr
    if boost is not None:
        near = {e + k for e in sch.prune_epochs for k in range(READAPT_EPOCHS)}
        Schedule.onchip_lr = lambda self, epoch: boost if epoch in near else base(self, epoch)
    try:
        res = trainer.train(ds, lut, rule, sch, seed=seed)
    finally:
        Schedule.onchip_lr = base
    return {"final_accuracy": res["final_accuracy"], "pretrained_accuracy": res["pretrained_accuracy"],
            "after_transfer_accuracy_mean_read": STATE["after_transfer"],
            "final_accuracy_mean_read": mean_read_accuracy(STATE["layers"]),
            "dense_software_accuracy": res["dense_software_accuracy"],
            "final_sparsity": res["final_sparsity"], "transfer_pulses": res["transfer"]["pulses"],
            "pulses_total": res["pulses_total"], "update": dict(STATE["count"]),
            "event_pulses": res["pulses_total"] - STATE["count"]["pulses"]}


def _arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


if __name__ == "__main__":
    n_train = int(_arg("--n-train", 50))
    seeds = [int(s) for s in _arg("--seeds", "0,1,2,3,4").split(",")]
    names = _arg("--configs", ",".join(CONFIGS)).split(",")
    lut = load_lut(ROOT / "luts" / "weight_ref")
    out = {"n_train": n_train, "validation": True, "seeds": seeds, "runs": {n: [] for n in names}}
    for s in seeds:
        ds = data.load(f"emnist-npz:{NPZ}", seed=s, n_train=n_train, validation=True)
        STATE["ds"], STATE["key"] = ds, (s, n_train)
        for n in names:
            r = run(ds, lut, s, n)
            out["runs"][n].append(r)
            print(f"n_train {n_train} seed {s} {n}: after transfer {r['after_transfer_accuracy_mean_read']:.3f} "
                  f"final {r['final_accuracy']:.3f} ({r['final_accuracy_mean_read']:.3f}) update pulses "
                  f"{r['update']['pulses']} firing ops {r['update']['operations_firing']}", file=sys.stderr, flush=True)
        if "--json" in sys.argv:
            Path(_arg("--json", "")).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
