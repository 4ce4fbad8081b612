"""``fefet-spice train``: sparse on-chip training of MSNet through a conductance-update LUT."""
from __future__ import annotations

import argparse
import sys

NAME = "train"
HELP = "train MSNet on-chip (pruning, VAU or another update rule) through a synapse LUT"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..train.rules import RULES

    src = p.add_mutually_exclusive_group()
    src.add_argument("--lut", help="native fefet-synapse-lut/1 folder (or its lut.json)")
    src.add_argument("--preset", default="weight",
                     help="device preset characterized with the numpy model (default weight)")
    p.add_argument("--update", choices=RULES, default="vau", help="update rule (default vau)")
    p.add_argument("--dataset", default="digits",
                   help="digits | npz:PATH | emnist:FOLDER | emnist-npz:PATH (default digits)")
    p.add_argument("--classes", help="comma-separated classes (digits/npz: labels; emnist, emnist-npz: letters)")
    p.add_argument("--n-train", type=int, default=50, help="training images per class (default 50)")
    p.add_argument("--n-test", type=int,
                   help="test images per class (default 100; with --validation all left, at most 100)")
    p.add_argument("--validation", action="store_true",
                   help="evaluate on held-out training images, not the test split (for model selection)")
    p.add_argument("--protocol", choices=("paper", "software-pruned", "scratch"),
                   help="paper (default): dense software pretraining, then every pruning step, over-pruning and "
                        "regrowth on the array; software-pruned: pruning-aware software fine-tuning before "
                        "transfer (software pruning); scratch: no software training, random weights on the array")
    p.add_argument("--schedule", help="schedule JSON (fefet-train-schedule/1), its fields over the protocol's "
                                      "defaults; default: the protocol's schedule")
    p.add_argument("--no-update-off", action="store_true",
                   help="skip the comparison run with the on-chip update switched off")
    p.add_argument("--array-params", metavar="FILE",
                   help="weight FeFET (fit or parameter file, or preset name) whose compact model is the cells "
                        "instead of the LUT: the array in the training loop (the LUT still chooses the pulse counts)")
    p.add_argument("--array-variation", metavar="PRESET_OR_FILE",
                   help="with --array-params: the device-to-device and cycle-to-cycle variation of this device "
                        "(e.g. weight; a single-device fit has none): every cell its own device sample")
    p.add_argument("--epochs", type=int, help="last epoch (overrides the schedule)")
    p.add_argument("--verify", action="store_true", help="write-and-verify after every layer update")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the history and summary as JSON here")
    p.add_argument("--plot", help="write a PNG here")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")


def _classes(text: str | None, dataset: str):
    if not text:
        return None
    from ..errors import ParamError
    from ..train.data import check_classes

    items = [c.strip() for c in text.split(",") if c.strip()]
    letters = dataset.startswith("emnist")
    if not letters:
        bad = [c for c in items if not c.lstrip("+-").isdigit()]
        if bad:
            raise ParamError(f"--classes {text}: {', '.join(map(repr, bad))} not an integer label "
                             "(digits/npz classes are labels; letters are for emnist)")
        items = [int(c) for c in items]
    return check_classes(items, letters, f"--classes {text}")


def _lut(args):
    if args.lut:
        from ..lut.native import load_lut

        return load_lut(args.lut), f"lut {args.lut}"
    from .. import presets
    from ..characterize import lut_from_model

    return lut_from_model(presets.get(args.preset)), f"preset {args.preset} (numpy-model LUT)"


def _line(rec: dict) -> str:
    fit = "" if rec["fit_error_active"] is None else (
        f" fit {rec['fit_error_active']:.2f}/{rec['fit_error_all']:.2f}")
    ev = f" [{', '.join(rec['events'])}]" if rec["events"] else ""
    return (f"epoch {rec['epoch']:3d} {rec['phase']:8s} acc {100 * rec['accuracy']:5.1f} % "
            f"loss {rec['loss']:.3f} sparsity {100 * rec['sparsity']:4.1f} % ops {rec['operations']} "
            f"pulses {rec['pulses']}{fit}{ev}")


def run(args) -> int:
    from .. import api, interrupt
    from ..io.atomic import check_figure_path
    from ._outputs import write_outputs

    if args.plot:
        check_figure_path(args.plot, "--plot")
    sch = api.make_schedule(args.schedule, args.epochs, args.verify, args.protocol)
    ds = api.load_dataset(args.dataset, seed=args.seed, classes=_classes(args.classes, args.dataset),
                          n_train=args.n_train, n_test=args.n_test, validation=args.validation)
    lut, lut_name = _lut(args)
    array = None
    if args.array_variation and not args.array_params:
        from ..errors import ParamError

        raise ParamError("--array-variation needs --array-params (the device whose cells vary)")
    if args.array_params:
        from ..lut.core import traffic_source

        array = api.array_cells(args.array_params, args.array_variation)  # nominal unless --array-variation
        if traffic_source(lut) is None:
            print("note: this LUT's steps come from monotone sweeps; on-chip training mostly reverses a cell's "
                  "direction, after which the device steps further. A LUT measured under training traffic "
                  "(characterize --traffic, e.g. luts/weight_ref_traffic) chooses the counts for the array "
                  "better (BENCHMARKS.md)", file=sys.stderr)
    total = sch.epochs

    def progress(rec):
        interrupt.check()  # every epoch: a Ctrl-C a finalizer swallowed stops the training here
        if not args.quiet:
            print(f"[train {rec['epoch']}/{total}] {_line(rec)}", file=sys.stderr, flush=True)

    result = api.train(ds, lut, args.update, sch, seed=args.seed, on_epoch=progress, lut_name=lut_name,
                       update_off=not args.no_update_off, array_params=array)
    res = result.record
    res.update({"n_train": args.n_train, "n_test": args.n_test, "validation": args.validation})
    off = res["accuracy_update_off"]
    soft = " (software pruning before transfer)" if res["protocol"] == "software-pruned" else ""
    varied = f" with the variation of {args.array_variation}" if args.array_variation else ""
    cells = f" (cells: the compact model {array.name}{varied}, the array in the loop)" if array is not None else ""
    print(f"MSNet on {ds.source}, protocol {res['protocol']}{soft}, rule {args.update}, {lut_name}{cells}, "
          f"seed {args.seed}: "
          f"final accuracy {100 * res['final_accuracy']:.1f} % at sparsity {100 * res['final_sparsity']:.1f} % "
          + (f"(dense software {100 * res['dense_software_accuracy']:.1f} %) "
             if res["dense_software_accuracy"] is not None else "(no software training) ")
          + f"(per layer {', '.join(f'{100 * s:.0f} %' for s in res['final_layer_sparsity'])}); "
          f"{res['operations_total']} operations, {res['pulses_total']} pulses, {res['wall_time_s']:.1f} s")
    print(f"after transfer {100 * res['accuracy_after_transfer']:.1f} %; "
          + (f"update switched off {100 * off:.1f} %, on-chip contribution "
             f"{100 * res['onchip_contribution']:+.1f} points; " if off is not None else "")
          + f"{res['update_pulses']} update pulses in {res['epochs_fired']} epochs, "
          f"{res['prune_reset_pulses']} pruning-reset pulses")
    write_outputs(args.json, res, args.plot, result.figure)
    return 0
