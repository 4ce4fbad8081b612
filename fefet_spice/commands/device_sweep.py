"""``fefet-spice device-sweep``: the same training protocol over several synapse LUTs."""
from __future__ import annotations

import sys

NAME = "device-sweep"
HELP = "train MSNet under one protocol through several LUTs: accuracy against levels, nonlinearity, noise"


def add_arguments(p) -> None:
    from ..train.rules import RULES

    p.add_argument("luts", nargs="*", help="native LUT folders (default: luts/weight_ref and luts/devices/*)")
    p.add_argument("--make-luts", metavar="DIR",
                   help="write the ideal, noisy and strongly nonlinear sweep LUTs into DIR and stop: each "
                        "changes one property of the reference LUT on its G range (ideal: its number of levels; noisy: "
                        "its mean response) "
                        "(the nonlinear one from the numpy compact model, seed 0)")
    p.add_argument("--reference", default="luts/weight_ref",
                   help="reference LUT folder of --make-luts (default luts/weight_ref)")
    p.add_argument("--update", choices=RULES, default="vau", help="update rule (default vau)")
    p.add_argument("--protocol", choices=("paper", "software-pruned", "scratch"), default="paper",
                   help="training protocol (default paper)")
    p.add_argument("--step", choices=("reference", "pulse"), default="reference",
                   help="on-chip step unit: the reference LUT's mean pulse in weight units, the same weight "
                        "change asked of every device (default), or each device's own pulse")
    p.add_argument("--step-reference", metavar="NAME",
                   help="LUT (folder name) whose mean pulse is the step unit (default weight_ref if swept, "
                        "else the first LUT)")
    p.add_argument("--schedule", help="schedule JSON, its fields over the protocol's defaults")
    p.add_argument("--epochs", type=int, help="last epoch (overrides the schedule)")
    p.add_argument("--dataset", help="dataset spec (default: the shared EMNIST letters if present, else digits)")
    p.add_argument("--n-train", type=int, default=50, help="training images per class (default 50)")
    p.add_argument("--validation", action="store_true",
                   help="evaluate on held-out training images, not the test split (for model selection)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--jobs", "--workers", dest="jobs", type=int, default=1,
                   help="local process pool size (default 1: serial in this process; at most 2)")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://host:port (runs the trainings there)")
    p.add_argument("-o", "--out", default="out/device_sweep",
                   help="folder for sweep.json, sweep.csv and sweep.png (default out/device_sweep)")


def _named(folders) -> dict:
    """LUT folders by the name the sweep's rows use (the folder's name); one folder given twice counts once,
    two different folders with the same name are refused (one row would silently replace the other)."""
    from pathlib import Path

    from ..errors import ParamError

    named: dict = {}
    for f in folders:
        path = Path(f).parent if Path(f).name == "lut.json" else Path(f)
        name = path.name or path.resolve().name
        if name in named and named[name].resolve() != path.resolve():
            raise ParamError(f"LUT folders {named[name]} and {path}: both are named {name!r}, and the sweep names its "
                             "rows by folder name; rename or copy one of them")
        named.setdefault(name, path)
    return named


def run(args) -> int:
    from pathlib import Path

    from .. import api
    from ..api.sweep import device_sweep, make_device_luts
    from ..errors import ParamError
    from ..lut.native import load_lut
    from ..train.data import default_dataset

    from ..io.outdir import claim_dir, guard_outputs, mark

    if args.make_luts:  # a file of the folder that fefet-spice did not write is never replaced, even with --force
        guard_outputs(Path(args.make_luts), NAME, args, claim_dir(args.make_luts, NAME, args.force, "--make-luts"))
        for f in make_device_luts(args.make_luts, args.reference):
            print(f"wrote {f}")
        mark(args.make_luts, NAME)
        return 0
    try:
        seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip())
    except ValueError:
        raise ParamError(f"--seeds {args.seeds}: comma-separated whole numbers, e.g. 0,1,2") from None
    if not seeds:
        raise ParamError("--seeds: give at least one seed")
    if any(not 0 <= s < 2**32 for s in seeds):
        raise ParamError(f"--seeds {args.seeds}: every seed must be a whole number from 0 to 2**32 - 1")
    if args.jobs < 1:
        raise ParamError(f"--jobs {args.jobs}: must be >= 1")
    guard_outputs(Path(args.out), NAME, args, claim_dir(args.out, NAME, args.force))  # before any training
    folders = args.luts or ["luts/weight_ref", *sorted(str(p) for p in Path("luts/devices").glob("*")
                                                      if (p / "lut.json").is_file())]
    luts = {name: load_lut(f) for name, f in _named(folders).items()}
    sch = api.make_schedule(args.schedule, args.epochs, protocol=args.protocol)

    def progress(row):
        print(f"[device-sweep] {row['lut']} seed {row['seed']}: final {100 * row['final_accuracy']:.1f} %, "
              f"update off {100 * row['accuracy_update_off']:.1f} %", file=sys.stderr, flush=True)

    dataset = args.dataset or default_dataset()
    print(f"[device-sweep] dataset {dataset}" + ("" if args.dataset else " (the default; --dataset chooses)"),
          file=sys.stderr, flush=True)
    res = device_sweep(luts, dataset, rule=args.update, schedule=sch, seeds=seeds,
                       n_train=args.n_train, validation=args.validation, step=args.step,
                       reference=args.step_reference, jobs=args.jobs,
                       scheduler=args.scheduler, on_run=progress)
    out = Path(args.out)
    for f in res.save(out / "sweep.json", out / "sweep.png", out / "sweep.csv"):
        print(f"wrote {f}")
    mark(out, NAME)
    for r in res.table:
        print(f"{r['lut']:12s} levels {r['levels']:3d} NL {r['nonlinearity']:.2f} noise {r['noise']:.2f}: "
              f"{100 * r['final_accuracy']:.1f} ± {100 * r['final_accuracy_std']:.1f} % "
              f"(update off {100 * r['accuracy_update_off']:.1f} %)")
    return 0
