"""``fefet-spice netlist``: write ngspice netlists (FeFET libraries, cell testbench, 8x8 VAU deck)."""
from __future__ import annotations

import argparse

NAME = "netlist"
HELP = "write ngspice netlists and Verilog-A modules generated from the device parameters (and optionally measure energies)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true",
                   help="write every committed netlist (libraries, testbench, 8x8 VAU, Verilog-A modules)")
    p.add_argument("--verilog-a", action="store_true",
                   help="write the Verilog-A modules (<weight>.va, <sparsity>.va, fecap.va)")
    p.add_argument("-o", "--out", default="out/netlists",
                   help="output folder (default out/netlists; `-o netlists` regenerates the committed files)")
    p.add_argument("--weight", default="weight", help="weight FeFET: preset name or parameter file")
    p.add_argument("--sparsity", default="sparsity", help="sparsity FeFET: preset name or parameter file")
    p.add_argument("--energy", metavar="JSON", help="also measure write/read energies in ngspice, write them here")


def run(args) -> int:
    from .. import api
    from ..errors import ParamError
    from ..io.params_file import resolve_params

    if not args.all and not args.energy and not args.verilog_a:
        raise ParamError("nothing to do: pass --all, --verilog-a and/or --energy FILE")
    weight, sparsity = resolve_params(args.weight), resolve_params(args.sparsity)
    if args.all or args.verilog_a:
        try:
            nets = api.netlists(weight, sparsity, spice=args.all)  # every text is validated before any write
        except ParamError as exc:  # say which files the offending devices came from
            raise ParamError(f"--weight {args.weight} / --sparsity {args.sparsity}: {exc}") from None
        for path in nets.save(args.out, keep_manifest=not args.all):
            print(f"wrote {path}" + (f" ({len(nets.texts[path.name].splitlines())} lines)" if path.name in nets.texts
                                     else ""))
    if args.energy:
        energy = api.energies(weight, sparsity)
        energy.save(args.energy)
        rec = energy.record
        print(f"write {rec['write_energy_per_pulse_j']:.3e} J/pulse (half-select {rec['write_energy_half_select_j']:.3e} J), "
              f"read {rec['read_energy_per_cell_j']:.3e} J/cell, sparsity write {rec['sparsity_write_energy_j']:.3e} J")
        print(f"wrote {args.energy}")
    return 0

