"""What the on-chip phase contributes on real EMNIST letters, per on-chip method, validation images only.

For each seed (its own split, ``--validation``: held-out *training* images, the test split is never
read) and each configuration, one run of the protocol's schedule with its update-off companion
(:func:`fefet_spice.train.trainer.train`: same pretraining and transfer noise, on-chip update skipped,
pruning, over-pruning and regrowth still applied). Pretraining is identical across the configurations
of a seed and protocol, so it is computed once and its RNG state restored: results equal separate runs.
Per run: ``final_accuracy``, ``accuracy_update_off``, ``onchip_contribution``, ``onchip_recovery``,
``accuracy_after_transfer``, accuracy before over-pruning, update pulses (without pruning resets),
epochs that fired, operations. Configurations (``CONFIGS``): ``vau`` (paper protocol defaults: weight
registers), ``vau_lines`` (line registers, N + 1 steps), ``vau_none`` (no accumulation: every update
rounded on its own), ``cell`` (weight registers, the precise per-cell count), ``float``, and
``vau_software_pruned`` (the software-pruned protocol, labelled as software pruning).
Run: ``nice .venv/bin/python bench/bench_onchip_contribution.py [--n-train 50] [--seeds 0,1,2]
[--configs vau,vau_none] [--json F]`` (default: every configuration).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from _cli import check_json_folder, positive_int, seed_list  # noqa: E402

from fefet_spice.lut.native import load_lut  # noqa: E402
from fefet_spice.train import data, trainer  # noqa: E402
from fefet_spice.train.schedule import for_protocol  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NPZ = ROOT.parent / "shared" / "data" / "emnist_letters_aeprs.npz"
CONFIGS = {"vau": ("vau", "paper", {}), "vau_lines": ("vau", "paper", {"accumulate": "lines"}),
           "vau_none": ("vau", "paper", {"accumulate": "none"}), "cell": ("cell", "paper", {}),
           "float": ("float", "paper", {}), "vau_software_pruned": ("vau", "software-pruned", {})}
KEYS = ("final_accuracy", "accuracy_update_off", "onchip_contribution", "onchip_recovery",
        "accuracy_after_transfer", "dense_software_accuracy", "update_pulses", "prune_reset_pulses",
        "epochs_fired", "operations_total", "final_sparsity")

_orig_pretrain = trainer.pretrain
CACHE: dict = {}


def _pretrain(ds, sch, rng, on_epoch=None):
    key = (CACHE.get("seed"), CACHE.get("n_train"), sch.protocol)
    if key not in CACHE:
        CACHE[key] = (copy.deepcopy(_orig_pretrain(ds, sch, rng, on_epoch)), copy.deepcopy(rng.bit_generator.state))
    out, state = CACHE[key]
    rng.bit_generator.state = copy.deepcopy(state)
    return copy.deepcopy(out)


def run(ds, lut, seed: int, name: str) -> dict:
    rule, protocol, over = CONFIGS[name]
    res = trainer.train(ds, lut, rule, for_protocol(protocol, **over), seed=seed)
    ev = [e for e in res["accuracy_pruning_events"] if e["kind"] == "overprune"]
    return {**{k: res[k] for k in KEYS}, "protocol": res["protocol"],
            "before_overprune": ev[0]["before"] if ev else None, "events": res["accuracy_pruning_events"]}


def _config_list(text: str) -> list[str]:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected at least one configuration of {', '.join(CONFIGS)}")
    names = text.split(",")
    bad = [n for n in names if n not in CONFIGS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown configuration(s) {', '.join(map(repr, bad))}; "
                                         f"choose from {', '.join(CONFIGS)}")
    if len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(f"a configuration is named twice in {text!r}")
    return names


def parse_args(argv=None):
    """The command line (an unknown or misspelt option is an error, never a silent run with the defaults)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--n-train", type=positive_int, default=50, help="training images per class (default: 50)")
    ap.add_argument("--seeds", type=seed_list, default=[0, 1, 2],
                    help="comma-separated seeds, each its own split (default: 0,1,2)")
    ap.add_argument("--configs", type=_config_list, default=list(CONFIGS),
                    help=f"comma-separated configurations (default: all: {','.join(CONFIGS)})")
    ap.add_argument("--json", default=None, help="also write the result to this file (after every seed)")
    args = ap.parse_args(argv)
    check_json_folder(ap, args.json)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if not NPZ.is_file():
        sys.exit(f"{NPZ} is absent: this benchmark needs the shared EMNIST letters")
    trainer.pretrain = _pretrain    # pretraining shared by the configurations of a seed (see the docstring)
    n_train, seeds, names = args.n_train, args.seeds, args.configs
    lut = load_lut(ROOT / "luts" / "weight_ref")
    out = {"n_train": n_train, "validation": True, "seeds": seeds, "runs": {n: [] for n in names}}
    for s in seeds:
        ds = data.load(f"emnist-npz:{NPZ}", seed=s, n_train=n_train, validation=True)
        CACHE.clear()
        CACHE.update(seed=s, n_train=n_train)
        for n in names:
            r = run(ds, lut, s, n)
            out["runs"][n].append(r)
            print(f"n_train {n_train} seed {s} {n}: final {r['final_accuracy']:.3f} update off "
                  f"{r['accuracy_update_off']:.3f} contribution {r['onchip_contribution']:+.3f} update pulses "
                  f"{r['update_pulses']} epochs fired {r['epochs_fired']}", file=sys.stderr, flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    out["summary"] = {n: {k: (float(np.mean([r[k] for r in rows if r[k] is not None])) if any(
        r[k] is not None for r in rows) else None) for k in (*KEYS, "before_overprune")}
        for n, rows in out["runs"].items()}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["summary"], indent=1))


if __name__ == "__main__":
    main()
