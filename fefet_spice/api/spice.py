"""SPICE stage of the API: ngspice netlists generated from the parameter objects, energies measured in ngspice."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..params import FeFETParams
from ._common import quantity


@dataclass
class Netlists:
    """Result of :func:`netlists`: netlist texts by file name (validated before anything is written)."""

    texts: dict[str, str]
    files: list[Path] = field(default_factory=list)

    def save(self, folder, keep_manifest: bool = False) -> list[Path]:
        """Write every netlist and ``netlists.json`` (SHA-256 per file) into ``folder``.

        ``keep_manifest``: keep the other files' entries of an existing ``netlists.json`` (a partial write,
        e.g. the Verilog-A modules alone).
        """
        from ..io.atomic import write_json, write_text

        out = Path(folder)
        summary = {"schema": "fefet-netlists/1", "files": _manifest(out / "netlists.json") if keep_manifest else {}}
        files = []
        for name, text in sorted(self.texts.items()):
            files.append(write_text(out / name, text))
            summary["files"][name] = hashlib.sha256(text.encode()).hexdigest()
        files.append(write_json(out / "netlists.json", summary))
        self.files = files
        return files


def netlists(weight: FeFETParams, sparsity: FeFETParams, spice: bool = True, verilog_a: bool = True) -> Netlists:
    """FeFET libraries, cell testbench and 8x8 VAU deck (``spice``) and the Verilog-A modules (``verilog_a``)
    of the (nominal) devices."""
    from .. import presets
    from ..spice.library import all_files
    from ..spice.verilog_a import verilog_a_files

    weight, sparsity = presets.nominal(weight), presets.nominal(sparsity)
    texts = dict(all_files(weight, sparsity)) if spice else {}
    if verilog_a:
        texts.update(verilog_a_files(weight, sparsity))
    return Netlists(texts)


def _manifest(path: Path) -> dict:
    """File hashes of an existing ``netlists.json`` (empty when absent or not a manifest)."""
    import json

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("schema") == "fefet-netlists/1" else None
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(files, dict) else {}


@dataclass
class Energies:
    """Result of :func:`energies`: the ``fefet-energy/1`` record measured in ngspice."""

    record: dict
    files: list[Path] = field(default_factory=list)

    def quantities(self) -> list[dict]:
        r = self.record
        return [quantity("write energy per pulse, selected cell", r["write_energy_per_pulse_j"], "J"),
                quantity("write energy per pulse, half-selected cell", r["write_energy_half_select_j"], "J"),
                quantity("read energy per cell", r["read_energy_per_cell_j"], "J"),
                quantity("sparsity FeFET write energy", r["sparsity_write_energy_j"], "J"),
                quantity("write pulse", r["write_pulse_amplitude_v"], "V",
                         note=f"{_width(r['write_pulse_width_s'])} wide"),
                quantity("weight FeFET gate capacitance", r["gate_capacitance_f"], "F")]

    def save(self, path) -> list[Path]:
        from ..io.atomic import write_json

        self.files = [write_json(path, self.record)]
        return self.files


def _width(t: float) -> str:
    from ..units import si

    return si(t, "s")


def energies(weight: FeFETParams, sparsity: FeFETParams) -> Energies:
    """Write, half-select, read and sparsity-write energies of the (nominal) cell measured in ngspice."""
    from .. import presets
    from ..spice.energy import measure_energies

    return Energies(measure_energies(presets.nominal(weight), presets.nominal(sparsity)))
