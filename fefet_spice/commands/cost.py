"""``fefet-spice cost``: weight-update energy and latency of dense, external-index sparse and
index-free designs (SPEC 5), normalized to dense."""
from __future__ import annotations

import argparse

NAME = "cost"
HELP = "weight-update energy/latency of dense, block/vector/element-sparse and index-free arrays"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--network", default="vgg8", choices=("vgg8", "msnet"))
    p.add_argument("--sparsity", default="preset",
                   help="'preset' (the paper's final per-layer sparsity), a number in [0, 1) for every "
                        "layer, or a fefet-sparsity/1 JSON file")
    dev = p.add_mutually_exclusive_group()
    dev.add_argument("--energy", help="device numbers: a fefet-energy/1 JSON file from the SPICE "
                                      "characterization (default: documented analytic estimates)")
    dev.add_argument("--neurosim-device", action="store_true",
                     help="use DNN+NeuroSim V2.1 FeFET defaults as device numbers (paper-comparable)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override an architecture parameter (repeatable), e.g. --set chip_bus_bits=512")
    p.add_argument("--json", help="write the report as JSON here")
    p.add_argument("--plot", help="write a PNG here")


def _parse_overrides(items: list[str]) -> dict:
    import math
    from dataclasses import fields

    from ..cost.params import ArchParams
    from ..errors import ParamError

    types = {f.name: f.type for f in fields(ArchParams)}
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ParamError(f"--set {item!r}: expected KEY=VALUE")
        if key not in types:
            raise ParamError(f"--set: unknown architecture parameter {key!r}")
        try:
            number = float(value)
        except ValueError:
            raise ParamError(f"--set {key}: not a number: {value!r}") from None
        if not math.isfinite(number):
            raise ParamError(f"--set {key}: expected a finite number, got {value!r}")
        if types[key] in ("int", int):
            if number != int(number):
                raise ParamError(f"--set {key}: expected a whole number, got {value!r}")
            number = int(value) if value.strip().lstrip("+-").isdigit() else int(number)
        out[key] = number
    return out


def _sparsity(spec: str, network: str, layers):
    from ..cost.energy_file import load_sparsity
    from ..cost.networks import preset_sparsity, uniform_sparsity

    if spec == "preset":
        return preset_sparsity(network), "preset"
    try:
        value = float(spec)
    except ValueError:
        return load_sparsity(spec, layers), spec
    return uniform_sparsity(layers, value), f"uniform {value:g}"


def run(args) -> int:
    from .. import api
    from ..cost.networks import get_network
    from ..cost.params import arch_from_dict
    from ..io.atomic import check_figure_path
    from ._outputs import write_outputs

    if args.plot:
        check_figure_path(args.plot, "--plot")
    sparsity, source = _sparsity(args.sparsity, args.network, get_network(args.network))
    device = args.energy or ("neurosim" if args.neurosim_device else None)
    arch = arch_from_dict(_parse_overrides(args.set)) if args.set else None
    res = api.cost(args.network, sparsity, device, arch, sparsity_source=source,
                   with_schedule=args.network == "vgg8" and args.sparsity == "preset")
    print(f"device: {res.device_source}")
    print(res.table())
    write_outputs(args.json, res.report, args.plot, res.figure)
    return 0
