"""``fefet-spice gen-measurements``: regenerate the synthetic reference data set (seeded, deterministic)."""
from __future__ import annotations

import argparse

NAME = "gen-measurements"
HELP = "write the synthetic reference measurements (weight and sparsity FeFET) from the discrete-domain generator"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", default="out/measurements",
                   help="output folder (default out/measurements; `-o measurements` regenerates the committed set)")
    p.add_argument("--seed", type=int, default=2025, help="generator seed (default 2025)")
    p.add_argument("--device", choices=("weight", "sparsity"), action="append",
                   help="only this device (repeatable; default both)")
    p.add_argument("--json", help="write a summary (files, sizes, truth key values) as JSON here")


def run(args) -> int:
    import json
    from pathlib import Path

    from ..generator import DEVICES, generate
    from ..io.atomic import write_json
    from ..progress import Progress

    devices = tuple(dict.fromkeys(args.device or DEVICES))  # a repeated --device counts once
    with Progress(len(devices), "gen-measurements") as prog:
        files = generate(args.out, seed=args.seed, devices=devices, progress=prog)
    total = sum(Path(f).stat().st_size for f in files)
    print(f"wrote {len(files)} files ({total / 1024:.0f} KiB) under {args.out} (seed {args.seed})")
    if args.json:
        truth = {d: json.loads((Path(args.out) / d / "truth.json").read_text())["key"] for d in devices}
        write_json(args.json, {"out": args.out, "seed": args.seed, "files": [str(f) for f in files],
                               "bytes": total, "truth": truth})
    return 0
