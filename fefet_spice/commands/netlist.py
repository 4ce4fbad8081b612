"""``fefet-spice netlist``: write ngspice netlists (FeFET libraries, cell testbench, 8x8 VAU deck)."""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

NAME = "netlist"
HELP = "write ngspice netlists and Verilog-A modules generated from the device parameters (and optionally measure energies)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true",
                   help="write every committed netlist (libraries, testbench, 8x8 VAU, Verilog-A modules)")
    p.add_argument("--verilog-a", action="store_true",
                   help="write the Verilog-A modules (<weight>.va, <sparsity>.va, fecap.va)")
    p.add_argument("-o", "--out", default="netlists", help="output folder (default netlists)")
    p.add_argument("--weight", default="weight", help="weight FeFET: preset name or parameter file")
    p.add_argument("--sparsity", default="sparsity", help="sparsity FeFET: preset name or parameter file")
    p.add_argument("--energy", metavar="JSON", help="also measure write/read energies in ngspice, write them here")


def run(args) -> int:
    from .. import presets
    from ..errors import ParamError
    from ..io.atomic import write_json, write_text
    from ..io.params_file import resolve_params
    from ..spice.library import all_files
    from ..spice.verilog_a import verilog_a_files

    if not args.all and not args.energy and not args.verilog_a:
        raise ParamError("nothing to do: pass --all, --verilog-a and/or --energy FILE")
    weight = presets.nominal(resolve_params(args.weight))
    sparsity = presets.nominal(resolve_params(args.sparsity))
    summary: dict = {"schema": "fefet-netlists/1", "files": {}}
    if args.all or args.verilog_a:
        try:  # every text is validated before anything is written
            files = dict(all_files(weight, sparsity)) if args.all else {}
            files.update(verilog_a_files(weight, sparsity))
        except ParamError as exc:  # say which files the offending devices came from
            raise ParamError(f"--weight {args.weight} / --sparsity {args.sparsity}: {exc}") from None
        out = Path(args.out)
        if not args.all:  # keep the other files' entries of an existing manifest
            summary["files"] = _manifest(out / "netlists.json")
        for name, text in sorted(files.items()):
            write_text(out / name, text)
            summary["files"][name] = hashlib.sha256(text.encode()).hexdigest()
            print(f"wrote {out / name} ({len(text.splitlines())} lines)")
        write_json(out / "netlists.json", summary)
        print(f"wrote {out / 'netlists.json'}")
    if args.energy:
        from ..spice.energy import measure_energies

        rec = measure_energies(weight, sparsity)
        write_json(args.energy, rec)
        print(f"write {rec['write_energy_per_pulse_j']:.3e} J/pulse (half-select {rec['write_energy_half_select_j']:.3e} J), "
              f"read {rec['read_energy_per_cell_j']:.3e} J/cell, sparsity write {rec['sparsity_write_energy_j']:.3e} J")
        print(f"wrote {args.energy}")
    return 0


def _manifest(path: Path) -> dict:
    """File hashes of an existing ``netlists.json`` (empty when absent or not a manifest)."""
    import json

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("schema") == "fefet-netlists/1" else None
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(files, dict) else {}
