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
    p.add_argument("-o", "--out", help="output folder (default LUT/export_<format>)")
    p.add_argument("--nodes", type=int, default=32, help="aihwkit: piecewise nodes N (2..63)")
    p.add_argument("--n-cdf", type=int, default=21, help="crosssim: CDF points if the LUT's are not uniform")
    p.add_argument("--neurosim-source", metavar="DIR",
                   help="neurosim: your MLP_NeuroSim_V3.0 or DNN_NeuroSim_V2.1 checkout; also writes "
                        "neurosim.patch, to apply there with `patch -p1 < neurosim.patch`")


def run(args) -> int:
    from ..io.atomic import write_json
    from ..lut.native import load_lut, save_lut

    src = Path(args.lut)
    lut = load_lut(src)
    folder = src.parent if src.name == "lut.json" else src
    out = Path(args.out) if args.out else folder / f"export_{args.format}"
    if args.format == "native":
        files = [save_lut(out, lut) / "lut.npz", out / "lut.json"]
    elif args.format == "aihwkit":
        from ..lut.export_aihwkit import write_aihwkit

        files = write_aihwkit(lut, out, n_nodes=args.nodes)
    elif args.format == "neurosim":
        from ..lut.export_neurosim import write_neurosim

        files = write_neurosim(lut, out, source=args.neurosim_source, origin=str(folder))
    else:
        from ..lut.export_crosssim import write_crosssim

        files = write_crosssim(lut, out, n_cdf=args.n_cdf)
    manifest = out / f"export_{args.format}.json"
    write_json(manifest, {"format": args.format, "source": str(folder), "files": [p.name for p in files],
                          "source_npz_sha256": lut.meta.get("npz_sha256"),
                          "docs": "docs/lut_exports.md"})
    for p in files:
        print(f"wrote {p}")
    print(f"wrote {manifest}")
    return 0
