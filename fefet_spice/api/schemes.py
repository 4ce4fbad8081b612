"""Programming-scheme stage of the API: schemes x pulse widths measured in ngspice, each point through the
cost model (VGG-8 and MSNet). Used by ``fefet-spice schemes`` and by the main job's schemes stage."""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from ..params import FeFETParams

SCHEMA = "fefet-schemes/1"


@dataclass
class SchemesResult:
    """Result of :func:`schemes`: the ``fefet-schemes/1`` document, the per-point energy records and the
    cost reports (written by :meth:`save`)."""

    document: dict
    energy_records: dict[str, dict]
    cost_reports: dict[str, dict]
    files: list[Path] = field(default_factory=list)

    @property
    def answer(self) -> str:
        return self.document["answer"]

    def table(self) -> str:
        from ..cost.scheme_report import format_table

        return format_table(self.document)

    def best(self) -> dict:
        """The point with the largest index-free vs element-sparse energy gain on VGG-8."""
        return max(self.document["points"], key=lambda q: q["gain_energy_vs_element_vgg8"])

    def save(self, folder) -> list[Path]:
        """``energy/*.json`` (``fefet-energy/1``), ``cost/*.json``, ``schemes.txt``, ``schemes.json``, ``schemes.png``."""
        from ..cost.scheme_report import plot_schemes
        from ..io.atomic import save_figure, write_json, write_text

        out = Path(folder)
        files = [write_json(out / "energy" / f"{stem}.json", rec) for stem, rec in self.energy_records.items()]
        files += [write_json(out / "cost" / f"{stem}.json", rep) for stem, rep in self.cost_reports.items()]
        for pt in self.document["points"]:  # where this save put each point's energy file
            pt["energy_file"] = str(out / "energy" / Path(pt["energy_file"]).name)
        files.append(write_text(out / "schemes.txt", self.table() + "\n" + self.answer + "\n"))
        files.append(write_json(out / "schemes.json", self.document))
        files.append(save_figure(plot_schemes(self.document), out / "schemes.png"))
        self.files = files
        return files


def _scaled(weight: FeFETParams, area_scale: float, channel_scale: float) -> FeFETParams:
    if area_scale == 1.0 and channel_scale == 1.0:
        return weight
    return replace(weight, ferro=replace(weight.ferro, area=weight.ferro.area * area_scale),
                   channel=replace(weight.channel, width=weight.channel.width * channel_scale))


def scheme_record(sc) -> dict:
    """A scheme's line voltages and kept-cell drives for the JSON (a floating DIL's drives: null)."""
    return {**sc.to_dict(), "drives": {k: (None if v != v else v) for k, v in sc.drives().items()}}


def schemes(weight: FeFETParams, sparsity: FeFETParams, names: Sequence[str], widths: Sequence[float], *,
            amplitudes: str | Sequence[float] = "auto", budget_levels: float = 1.0, target: float = 5.0,
            n_train: int = 24, area_scale: float = 1.0, channel_scale: float = 1.0, backend: str = "auto",
            source: str = "", progress: Callable[[str], None] | None = None) -> SchemesResult:
    """Measure every scheme at every pulse width [s] in ngspice and cost each point.

    ``amplitudes``: 'auto' (per scheme and width, the drive giving the reference update per pulse in the
    ngspice cell), 'law' (the same from the domain law alone) or one value [V] per width. ``area_scale`` /
    ``channel_scale`` multiply the weight FeFET's ferroelectric area / channel width (the what-if).
    """
    from .. import presets
    from ..array.schemes import get_scheme
    from ..cost.energy_file import device_from_dict, device_to_dict
    from ..cost.networks import get_network, preset_sparsity
    from ..cost.params import ArchParams
    from ..cost.report import build_report
    from ..cost.scheme_report import answer
    from ..cost.schemes import disturb_pulse_counts, gains, point_device, required_write_scale
    from ..errors import ParamError
    from ..spice.energy import measure_energies
    from ..spice.scheme_points import (LEVELS_USED, circuit_equal_update_amplitude, equal_update_amplitude,
                                       measure_point)

    scs = [get_scheme(n) for n in names]
    if not isinstance(amplitudes, str) and len(amplitudes) != len(widths):
        raise ParamError(f"--amplitudes: give {len(widths)} values, one per width")
    if budget_levels <= 0 or target <= 0 or n_train < 4:
        raise ParamError("--budget-levels and --target must be > 0, --n-train >= 4")
    if not (0 < area_scale <= 100 and 0 < channel_scale <= 100):
        raise ParamError("--area-scale and --channel-scale must be in (0, 100]")
    weight = _scaled(presets.nominal(weight), area_scale, channel_scale)
    sparsity = presets.nominal(sparsity)
    t0 = time.time()
    base = device_from_dict(measure_energies(weight, sparsity, backend=backend), "ngspice base energies")
    counts = disturb_pulse_counts("vgg8")
    points, energy_records, cost_reports = [], {}, {}
    for sc in scs:
        for k, w in enumerate(widths):
            residual, a_dn = None, None
            if amplitudes == "auto":
                a, r_up = circuit_equal_update_amplitude(weight, sparsity, sc, w, backend=backend)
                a_dn, r_dn = circuit_equal_update_amplitude(weight, sparsity, sc, w, backend=backend, polarity=-1)
                residual = max(abs(r_up), abs(r_dn))
            elif amplitudes == "law":
                a = equal_update_amplitude(weight, w)
            else:
                a = amplitudes[k]
            pt = measure_point(weight, sparsity, sc, w, a, counts, n_train=n_train, backend=backend,
                               amplitude_down=a_dn)
            pt["amplitude_source"] = amplitudes if isinstance(amplitudes, str) else "given"
            pt["amplitude_residual_p"] = residual
            pt["law_amplitude_v"] = equal_update_amplitude(weight, w)
            dev = point_device(base, pt)
            pt.update(gains(dev))
            pt["meets_budget"] = bool(pt["disturb_levels"] < budget_levels)
            pt["writes"] = bool(pt["levels"] >= LEVELS_USED)
            pt["half_channel_over_write"] = pt["half_select_channel_energy_j"] / pt["write_energy_per_pulse_j"]
            pt["required_write_scale"] = required_write_scale(base, pt, target)
            pt["required_area_scale"] = required_write_scale(base, pt, target, part="gate")
            stem = f"{sc.name}_{w:.0e}".replace("+", "")
            rec = energy_records[stem] = device_to_dict(dev)
            pt["energy_file"] = f"energy/{stem}.json"
            for net in ("vgg8", "msnet"):
                cost_reports[f"{stem}_{net}"] = build_report(net, get_network(net), preset_sparsity(net), dev,
                                                             ArchParams(), rec, "preset")
            points.append(pt)
            if progress is not None:
                progress(f"[{time.time() - t0:6.1f} s] {sc.name:14s} {w:8.1e} s  D={a:.2f} V  write "
                         f"{pt['write_energy_per_pulse_j']:.2e} J  half {pt['half_select_gate_energy_j']:.2e}+"
                         f"{pt['half_select_channel_energy_j']:.2e} J  levels {pt['levels']}  disturb "
                         f"{pt['disturb_levels']:.2g}  gain vs element {pt['gain_energy_vs_element_vgg8']:.2f}x")
    doc = {"schema": SCHEMA, "weight": weight.name, "sparsity": sparsity.name, "params": source,
           "area_scale": area_scale, "ferro_area_m2": weight.ferro.area,
           "channel_scale": channel_scale, "channel_width_m": weight.channel.width,
           "widths_s": list(widths), "budget_levels": budget_levels, "target_gain": target,
           "disturb_pulses_vgg8_run": counts, "levels_used": LEVELS_USED,
           "base_energy": device_to_dict(base),
           "schemes": {sc.name: scheme_record(sc) for sc in scs},
           "points": points, "wall_time_s": time.time() - t0}
    doc["answer"] = answer(doc)
    return SchemesResult(doc, energy_records, cost_reports)
