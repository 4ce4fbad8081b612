"""``fefet-spice export-lut``: translate a native LUT folder for aihwkit, NeuroSim or CrossSim."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "export-lut"
HELP = "export a fefet-synapse-lut/1 folder as native, aihwkit, neurosim or crosssim files"
FORMATS = ("native", "aihwkit", "neurosim", "crosssim")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lut", help="native LUT folder (or its lut.json)")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("-o", "--out", help="output folder (default out/<LUT folder name>_<format>)")
    p.add_argument("--nodes", type=int, default=32, help="aihwkit: piecewise nodes N (2..63)")
    p.add_argument("--n-cdf", type=int, default=21, help="crosssim: CDF points if the LUT's are not uniform")
    p.add_argument("--neurosim-source", metavar="DIR",
                   help="neurosim: your MLP_NeuroSim_V3.0 or DNN_NeuroSim_V2.1 checkout; also writes "
                        "neurosim.patch, to apply there with `patch -p1 < neurosim.patch`")


def run(args) -> int:
    from .. import api
    from ..lut.native import load_lut

    src = Path(args.lut)
    lut = load_lut(src)
    folder = src.parent if src.name == "lut.json" else src
    out = Path(args.out) if args.out else Path("out") / f"{folder.resolve().name}_{args.format}"
    ex = api.export_lut(lut, args.format, out, source=str(folder), nodes=args.nodes, n_cdf=args.n_cdf,
                        neurosim_source=args.neurosim_source)
    for p in ex.files:
        print(f"wrote {p}")
    print(f"wrote {ex.manifest}")
    return 0
