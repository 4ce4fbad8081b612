"""Assemble the cost report (JSON-ready dict and text table) from the pure model."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .model import (DESIGNS, PAPER_INDEX_SHARE, PAPER_RATIOS, PARTS, evaluate, headline_ratios,
                    mask_install_energy)
from .networks import VGG8_EPOCHS, VGG8_SCHEDULE, Layer, overall_sparsity, uniform_sparsity
from .params import ArchParams, DeviceEnergy, as_dict

REPORT_SCHEMA = "fefet-cost/1"
SWEEP = tuple(np.round(np.linspace(0.0, 0.95, 20), 4))


def sweep(layers: tuple[Layer, ...], dev: DeviceEnergy, arch: ArchParams,
          sparsities=SWEEP) -> dict[str, list[float]]:
    """Index-free gain against uniform sparsity: dense/index_free and element/index_free."""
    out = {k: [] for k in ("sparsity", "energy_gain_vs_dense", "latency_gain_vs_dense",
                           "energy_gain_vs_element", "latency_gain_vs_element",
                           "diff_energy_gain_vs_dense", "diff_latency_gain_vs_dense")}
    for s in sparsities:
        r = evaluate(layers, uniform_sparsity(layers, float(s)), dev, arch,
                     designs=("dense", "element", "index_free", "index_free_diff"))
        f, g = r["index_free"], r["index_free_diff"]
        out["sparsity"].append(float(s))
        out["energy_gain_vs_dense"].append(r["dense"]["energy_j"] / f["energy_j"])
        out["latency_gain_vs_dense"].append(r["dense"]["latency_s"] / f["latency_s"])
        out["energy_gain_vs_element"].append(r["element"]["energy_j"] / f["energy_j"])
        out["latency_gain_vs_element"].append(r["element"]["latency_s"] / f["latency_s"])
        out["diff_energy_gain_vs_dense"].append(r["dense"]["energy_j"] / g["energy_j"])
        out["diff_latency_gain_vs_dense"].append(r["dense"]["latency_s"] / g["latency_s"])
    return out


def schedule_average(layers: tuple[Layer, ...], dev: DeviceEnergy, arch: ArchParams,
                     schedule=VGG8_SCHEDULE, epochs: int = VGG8_EPOCHS) -> dict:
    """Epoch-weighted mean cost per update over a pruning schedule ((start epoch, sparsity), ...)."""
    starts = [e for e, _ in schedule] + [epochs]
    tot = {d: {"energy_j": 0.0, "latency_s": 0.0} for d in DESIGNS}
    for (e0, s), e1 in zip(schedule, starts[1:]):
        r = evaluate(layers, uniform_sparsity(layers, s), dev, arch)
        for d in DESIGNS:
            # before the first pruning step an external-index chip runs in dense mode (no index)
            src = r["dense"] if s == 0.0 and d in ("block", "vector", "element") else r[d]
            tot[d]["energy_j"] += (e1 - e0) * src["energy_j"] / epochs
            tot[d]["latency_s"] += (e1 - e0) * src["latency_s"] / epochs
    for d in DESIGNS:
        tot[d]["energy_rel_dense"] = tot[d]["energy_j"] / tot["dense"]["energy_j"]
        tot[d]["latency_rel_dense"] = tot[d]["latency_s"] / tot["dense"]["latency_s"]
    return {"schedule": [{"epoch": e, "sparsity": s} for e, s in schedule], "epochs": epochs,
            "designs": tot}


#: Unsourced assumptions whose effect the report quantifies (each halved and doubled).
SENSITIVE = ("static_power_per_array_w", "chip_bus_bits", "chip_wire_m", "chip_buffer_j_per_bit",
             "decoder_energy_j", "chip_index_decoders", "pulse_slots_per_phase", "vau_adders")
PULSE_WIDTHS = (10e-9, 50e-9, 100e-9, 300e-9, 1e-6)


def sensitivity(layers: tuple[Layer, ...], sparsity: dict[str, float], dev: DeviceEnergy,
                arch: ArchParams, keys=SENSITIVE) -> dict[str, dict]:
    """Headline ratios with each assumption in ``keys`` halved and doubled (integers rounded)."""
    out = {}
    for key in keys:
        base = getattr(arch, key)
        out[key] = {}
        for label, factor in (("x0.5", 0.5), ("x2", 2.0)):
            value = factor * base
            if isinstance(base, int):
                value = max(1, int(round(value)))
            out[key][label] = headline_ratios(evaluate(layers, sparsity, dev, replace(arch, **{key: value})))
    return out


def pulse_width_scan(layers: tuple[Layer, ...], sparsity: dict[str, float], dev: DeviceEnergy,
                     arch: ArchParams, widths=PULSE_WIDTHS) -> list[dict]:
    """Headline ratios with the device's write pulse width replaced (everything else kept)."""
    return [{"write_pulse_width_s": w,
             "ratios": headline_ratios(evaluate(layers, sparsity, replace(dev, write_pulse_width_s=w), arch))}
            for w in widths]


def build_report(network: str, layers: tuple[Layer, ...], sparsity: dict[str, float],
                 dev: DeviceEnergy, arch: ArchParams, device_record: dict, sparsity_source: str,
                 with_schedule: bool = False) -> dict:
    """Everything the ``cost`` command writes: designs, breakdowns, ratios, sweep, assumptions."""
    res = evaluate(layers, sparsity, dev, arch)
    designs = {d: {k: res[d][k] for k in ("energy_j", "latency_s", "energy_rel_dense", "latency_rel_dense")}
               for d in DESIGNS}
    breakdown = {d: {"energy_parts_j": res[d]["energy_parts_j"], "latency_parts_s": res[d]["latency_parts_s"],
                     "dynamic_parts_j": res[d]["dynamic_parts_j"], "static_j": res[d]["static_j"],
                     "array_detail_j": res[d]["array_detail_j"], "arrays": res[d]["arrays"],
                     "index_share_energy": res[d]["index_share_energy"],
                     "index_share_latency": res[d]["index_share_latency"], "per_layer": res[d]["per_layer"]}
                 for d in DESIGNS}
    n_arrays = res["dense"]["arrays"]
    out = {
        "schema": REPORT_SCHEMA, "network": network, "sparsity_source": sparsity_source,
        "sparsity": sparsity, "overall_sparsity": overall_sparsity(layers, sparsity),
        "weights": sum(layer.weights for layer in layers),
        "mapping": {"arrays_single_cell": n_arrays,
                    "tile_equivalents": math.ceil(n_arrays / (arch.arrays_per_pe * arch.pes_per_tile)),
                    "arrays_differential": res["index_free_diff"]["arrays"]},
        "designs": designs, "breakdown": breakdown,
        "headline_ratios": {"ours": headline_ratios(res), "paper": PAPER_RATIOS},
        "index_share_element": {"ours": {"energy": res["element"]["index_share_energy"],
                                         "latency": res["element"]["index_share_latency"]},
                                "paper": PAPER_INDEX_SHARE},
        "sweep_uniform": sweep(layers, dev, arch),
        "assumptions": {"arch": as_dict(arch), "device": device_record,
                        "notes": ["layers updated one after another, parts of a layer not overlapped",
                                  "static energy = static_power_w x latency, charged to each part",
                                  "block/vector/element compared at the same sparsity",
                                  "see docs/cost_model.md"]},
    }
    out["mask_install_j"] = {d: mask_install_energy(layers, sparsity, d, dev, arch) for d in DESIGNS}
    out["sensitivity"] = sensitivity(layers, sparsity, dev, arch)
    out["pulse_width_scan"] = pulse_width_scan(layers, sparsity, dev, arch)
    if with_schedule:
        out["schedule_average"] = schedule_average(layers, dev, arch)
    return out


def format_table(rep: dict) -> str:
    """Human-readable table: designs normalized to dense, breakdown shares, headline ratios."""
    lines = [f"weight-update stage, {rep['network']} ({rep['weights']:,} weights, "
             f"{rep['mapping']['arrays_single_cell']} arrays), overall sparsity "
             f"{100 * rep['overall_sparsity']:.1f} % ({rep['sparsity_source']})",
             f"{'design':16s} {'energy':>10s} {'latency':>10s} {'E/dense':>8s} {'L/dense':>8s}   "
             "energy share index/transfer/array/operator"]
    for d, v in rep["designs"].items():
        parts = rep["breakdown"][d]["energy_parts_j"]
        share = "/".join(f"{100 * parts[p] / v['energy_j']:.0f}" for p in PARTS)
        lines.append(f"{d:16s} {v['energy_j']:10.3e} {v['latency_s']:10.3e} {v['energy_rel_dense']:8.3f} "
                     f"{v['latency_rel_dense']:8.3f}   {share} %")
    ours, paper = rep["headline_ratios"]["ours"], rep["headline_ratios"]["paper"]
    lines.append("headline ratios (ours vs paper): latency, energy")
    for k in ours:
        lines.append(f"  {k:28s} {ours[k]['latency']:6.2f}x vs {paper[k]['latency']:5.1f}x   "
                     f"{ours[k]['energy']:6.2f}x vs {paper[k]['energy']:5.1f}x")
    ix = rep["index_share_element"]["ours"]
    lines.append(f"index share of element-wise update: energy {100 * ix['energy']:.0f} % (paper 92 %), "
                 f"latency {100 * ix['latency']:.0f} % (paper 96 %)")
    return "\n".join(lines)
