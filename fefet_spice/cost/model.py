"""Analytic energy and latency of the weight-update stage (pure numerics, no IO).

One update of every layer (layer after layer) consists of

1. **index** handling (external-index designs): the index of every nonzero granule is read from
   the chip-level index buffer, decoded at chip, tile and PE level, and its address travels down
   with the data; decoders handle one index per cycle;
2. **transfer** of the update data from the global buffer through the tile and PE buffers to the
   arrays: dW (8 bit) per updated weight, or the VAU row and column operators (index-free);
3. **array** operations: write pulses (selected cells), line charging, half-selected cells and
   optional read-verify (ADC conversions);
4. **operator** computation (index-free only): the row and column sums of the VAU fit.

Latency adds the four parts per layer and the layers in sequence (no overlap, NeuroSim's
layer-by-layer accounting). Energy of a part = its dynamic energy + static power x its latency.
See docs/cost_model.md for every assumption.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .networks import Layer
from .params import ArchParams, DeviceEnergy

DESIGNS = ("dense", "block", "vector", "element", "index_free", "index_free_diff")
PARTS = ("index", "transfer", "array", "operator")


@dataclass(frozen=True)
class Mapping:
    """How one layer lands on arrays."""

    arrays: int
    """Arrays holding the layer [-]."""
    pes: int
    """PEs used [-]."""
    tiles: int
    """Tiles used [-]."""
    rows: float
    """Mean used rows per array [-]."""
    cols: float
    """Mean used columns (cells) per array [-]."""


def map_layer(layer: Layer, arch: ArchParams, cells_per_weight: int) -> Mapping:
    """Tile a layer's (rows x cols*cells_per_weight) cell matrix onto M x N arrays."""
    cell_cols = layer.cols * cells_per_weight
    a_r = math.ceil(layer.rows / arch.array_rows)
    a_c = math.ceil(cell_cols / arch.array_cols)
    arrays = a_r * a_c
    pes = math.ceil(arrays / arch.arrays_per_pe)
    tiles = math.ceil(arrays / (arch.arrays_per_pe * arch.pes_per_tile))
    return Mapping(arrays, pes, tiles, layer.rows / a_r, cell_cols / a_c)


def granule(design: str, arch: ArchParams) -> tuple[int, int]:
    """(rows, cols) of the unit that one index entry covers."""
    return {"block": (arch.block_rows, arch.block_cols), "vector": (1, arch.vector_length),
            "element": (1, 1)}[design]


def _bits(n: int) -> int:
    return max(1, math.ceil(math.log2(n))) if n > 1 else 0


def index_address_bits(design: str, arch: ArchParams) -> dict[str, int]:
    """Address fields of one index entry [bit]: tile, PE, array, position in the array."""
    gr, gc = granule(design, arch)
    per_array = math.ceil(arch.array_rows / gr) * math.ceil(arch.array_cols / gc)
    return {"tile": _bits(arch.chip_tiles), "pe": _bits(arch.pes_per_tile),
            "array": _bits(arch.arrays_per_pe), "position": _bits(per_array)}


def transfer_energy_per_bit(arch: ArchParams) -> float:
    """Energy to move one bit global buffer -> tile buffer -> PE buffer -> array [J/bit]."""
    w = arch.wire_j_per_bit_m
    return (arch.chip_buffer_j_per_bit + w * arch.chip_wire_m + 2 * arch.tile_buffer_j_per_bit
            + w * arch.tile_wire_m + 2 * arch.pe_buffer_j_per_bit + w * arch.pe_wire_m)


def _transfer(bits: float, m: Mapping, arch: ArchParams) -> tuple[float, float]:
    cycles = max(bits / arch.chip_bus_bits, bits / (arch.tile_bus_bits * m.tiles),
                 bits / (arch.pe_bus_bits * m.pes))
    return bits * transfer_energy_per_bit(arch), cycles / arch.clock_hz


def _index(n_idx: float, design: str, m: Mapping, arch: ArchParams) -> tuple[float, float]:
    f = index_address_bits(design, arch)
    full = sum(f.values())
    below_chip, below_tile = full - f["tile"], f["array"] + f["position"]
    w = arch.wire_j_per_bit_m
    per_index = (full * arch.chip_buffer_j_per_bit
                 + below_chip * (w * arch.chip_wire_m + 2 * arch.tile_buffer_j_per_bit)
                 + below_tile * (w * arch.tile_wire_m + 2 * arch.pe_buffer_j_per_bit)
                 + f["position"] * w * arch.pe_wire_m + 3 * arch.decoder_energy_j)
    cycles = max(n_idx / arch.chip_index_decoders, n_idx / m.tiles, n_idx / m.pes,
                 n_idx * full / arch.chip_bus_bits)
    return n_idx * per_index, cycles / arch.clock_hz


def _verify(cells_converted: float, m: Mapping, dev: DeviceEnergy, arch: ArchParams) -> tuple[float, float]:
    p = arch.verify_passes
    energy = p * cells_converted * (arch.adc_energy_j + dev.read_energy_per_cell_j)
    t_conv = dev.read_time_s + arch.adc_bits / arch.clock_hz
    return energy, p * m.rows * arch.col_mux * t_conv


def _array_rowwise(layer: Layer, m: Mapping, d: float, g: tuple[int, int], dev: DeviceEnergy,
                   arch: ArchParams, cpw: int) -> dict[str, float]:
    """Row-by-row writes (dense and external-index designs): two phases (LTP, LTD) per row."""
    s = 1.0 - d
    row_active = 1.0 - s ** max(m.cols / (g[1] * cpw), 1.0)  # P(row of an array has an updated granule)
    row_ops = m.rows * row_active
    slots = 2 * arch.pulse_slots_per_phase
    v2 = dev.write_pulse_amplitude_v ** 2
    sel_per_row = d * m.cols / row_active if row_active > 0 else 0.0
    per_op_line = m.cols * dev.line_capacitance_per_cell_f * v2
    per_op_hs = (m.cols - sel_per_row) * dev.write_energy_half_select_j
    updated_cells = d * layer.weights * cpw
    verify_e, verify_t = _verify(updated_cells, m, dev, arch)
    return {"pulses": updated_cells * arch.mean_pulses_per_update * dev.write_energy_per_pulse_j,
            "lines": m.arrays * row_ops * slots * per_op_line,
            "half_select": m.arrays * row_ops * slots * per_op_hs,
            "verify": verify_e,
            "write_time": row_ops * slots * (dev.write_pulse_width_s + arch.pulse_gap_s),
            "verify_time": verify_t}


def _array_vau(layer: Layer, m: Mapping, d_dev: float, active_cells: float, dev: DeviceEnergy,
               arch: ArchParams, cells: float) -> dict[str, float]:
    """VAU (SPEC 2): N column operations (all BLs driven, one polarity each, unselected DOLs held
    at V_comp) plus one row operation; pruned cells are masked by their sparsity FeFET."""
    slots = arch.pulse_slots_per_phase
    v = dev.write_pulse_amplitude_v
    ops = m.cols + 1
    line_per_pulse = m.rows * m.cols * dev.line_capacitance_per_cell_f * v * v   # all BLs of an array
    inhibit_per_col_op = (m.cols - 1) * m.rows * dev.line_capacitance_per_cell_f * (v / 2) ** 2
    hs_per_col_op = m.rows * (m.cols - 1) * d_dev * dev.write_energy_half_select_j * slots
    # pruned cells: masked, but a scheme may still let them draw (measured per scheme)
    masked_per_col_op = m.rows * (1.0 - d_dev) * slots * (
        dev.write_energy_masked_select_j + (m.cols - 1) * dev.write_energy_masked_half_j)
    verify_e, verify_t = _verify(cells, m, dev, arch)
    return {"pulses": active_cells * arch.mean_pulses_per_update * dev.write_energy_per_pulse_j,
            "lines": m.arrays * (ops * slots * line_per_pulse + m.cols * inhibit_per_col_op),
            "half_select": m.arrays * m.cols * (hs_per_col_op + masked_per_col_op),
            "verify": verify_e,
            "write_time": ops * slots * (dev.write_pulse_width_s + arch.pulse_gap_s),
            "verify_time": verify_t}


def layer_cost(layer: Layer, sparsity: float, design: str, dev: DeviceEnergy,
               arch: ArchParams) -> dict:
    """Dynamic energy [J] and latency [s] of each part for one layer and one design."""
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}")
    d = 1.0 - sparsity
    diff = design == "index_free_diff"
    cpw = 2 if diff else arch.cells_per_weight
    m = map_layer(layer, arch, cpw)
    nnz = d * layer.weights
    e = dict.fromkeys(PARTS, 0.0)
    t = dict.fromkeys(PARTS, 0.0)
    if design in ("index_free", "index_free_diff"):
        cells = layer.weights * cpw
        d_dev = d / 2 if diff else d          # one cell of each differential pair stays off
        active = d_dev * cells
        bits = m.arrays * (m.rows + m.cols) * arch.operator_bits
        e["transfer"], t["transfer"] = _transfer(bits, m, arch)
        arr = _array_vau(layer, m, d_dev, active, dev, arch, cells)
        adds = 2 * layer.weights
        e["operator"], t["operator"] = adds * arch.add_energy_j, adds / arch.vau_adders / arch.clock_hz
        device_sparsity = 1.0 - d_dev
    else:
        g = (1, 1) if design == "dense" else granule(design, arch)
        dens = 1.0 if design == "dense" else d
        e["transfer"], t["transfer"] = _transfer(dens * layer.weights * arch.dw_bits, m, arch)
        if design != "dense":
            e["index"], t["index"] = _index(nnz / (g[0] * g[1]), design, m, arch)
        arr = _array_rowwise(layer, m, dens, g, dev, arch, cpw)
        device_sparsity = 1.0 - dens
    e["array"] = arr["pulses"] + arr["lines"] + arr["half_select"] + arr["verify"]
    t["array"] = arr["write_time"] + arr["verify_time"]
    detail = {k: arr[k] for k in ("pulses", "lines", "half_select", "verify")}
    return {"dynamic_j": e, "latency_s": t, "array_detail_j": detail, "arrays": m.arrays,
            "device_sparsity": device_sparsity}


def network_cost(layers: tuple[Layer, ...], sparsity: dict[str, float], design: str,
                 dev: DeviceEnergy, arch: ArchParams) -> dict:
    """Totals over layers; static energy (power per mapped array x latency) is charged to each
    part by its latency."""
    dyn = dict.fromkeys(PARTS, 0.0)
    lat = dict.fromkeys(PARTS, 0.0)
    detail = dict.fromkeys(("pulses", "lines", "half_select", "verify"), 0.0)
    arrays = 0
    per_layer = {}
    for layer in layers:
        c = layer_cost(layer, sparsity[layer.name], design, dev, arch)
        for k in PARTS:
            dyn[k] += c["dynamic_j"][k]
            lat[k] += c["latency_s"][k]
        for k in detail:
            detail[k] += c["array_detail_j"][k]
        arrays += c["arrays"]
        per_layer[layer.name] = {"energy_j": sum(c["dynamic_j"].values()),
                                 "latency_s": sum(c["latency_s"].values()), "arrays": c["arrays"]}
    p_static = arch.static_power_per_array_w * arrays
    energy = {k: dyn[k] + p_static * lat[k] for k in PARTS}
    for name, rec in per_layer.items():
        rec["energy_j"] += p_static * rec["latency_s"]
    return {"energy_j": sum(energy.values()), "latency_s": sum(lat.values()),
            "energy_parts_j": energy, "latency_parts_s": lat, "dynamic_parts_j": dyn,
            "static_j": p_static * sum(lat.values()), "static_power_w": p_static,
            "array_detail_j": detail, "arrays": arrays, "per_layer": per_layer}


def evaluate(layers: tuple[Layer, ...], sparsity: dict[str, float], dev: DeviceEnergy,
             arch: ArchParams, designs: tuple[str, ...] = DESIGNS) -> dict[str, dict]:
    """Cost of every design, with energy and latency relative to dense."""
    out = {name: network_cost(layers, sparsity, name, dev, arch) for name in designs}
    ref = out["dense"] if "dense" in out else network_cost(layers, sparsity, "dense", dev, arch)
    for c in out.values():
        c["energy_rel_dense"] = c["energy_j"] / ref["energy_j"]
        c["latency_rel_dense"] = c["latency_s"] / ref["latency_s"]
        c["index_share_energy"] = c["energy_parts_j"]["index"] / c["energy_j"]
        c["index_share_latency"] = c["latency_parts_s"]["index"] / c["latency_s"]
    return out


def headline_ratios(res: dict[str, dict]) -> dict[str, dict[str, float]]:
    """The four comparisons of SPEC 5 as factors > 1 where the paper reports a gain.

    ``element_vs_dense`` is how many times *worse* element-wise is; the others are how many times
    *lower* the index-free cost is.
    """
    def ratio(a, b, key):
        return res[a][key] / res[b][key]
    return {
        "element_vs_dense": {"latency": ratio("element", "dense", "latency_s"),
                             "energy": ratio("element", "dense", "energy_j")},
        "index_free_vs_element": {"latency": ratio("element", "index_free", "latency_s"),
                                  "energy": ratio("element", "index_free", "energy_j")},
        "index_free_vs_dense": {"latency": ratio("dense", "index_free", "latency_s"),
                                "energy": ratio("dense", "index_free", "energy_j")},
        "index_free_diff_vs_element": {"latency": ratio("element", "index_free_diff", "latency_s"),
                                       "energy": ratio("element", "index_free_diff", "energy_j")},
    }


#: The paper's figures (SPEC 5), same orientation as :func:`headline_ratios`.
PAPER_RATIOS = {
    "element_vs_dense": {"latency": 2.7, "energy": 1.5},
    "index_free_vs_element": {"latency": 27.5, "energy": 13.6},
    "index_free_vs_dense": {"latency": 10.3, "energy": 9.2},
    "index_free_diff_vs_element": {"latency": 31.4, "energy": 13.8},
}
PAPER_INDEX_SHARE = {"energy": 0.92, "latency": 0.96, "sparsity": 0.89}


def mask_install_energy(layers: tuple[Layer, ...], sparsity: dict[str, float], design: str,
                        dev: DeviceEnergy, arch: ArchParams) -> float:
    """Energy to install a pruning mask once, from dense to ``sparsity`` [J] (not per update).

    Index-free: every pruned weight's (on) sparsity FeFET is written off (differential pairs: the
    other cell of each pair is already off). External index: every index entry is written once into
    the chip-level index buffer. Dense: nothing.
    """
    if design == "dense":
        return 0.0
    total = 0.0
    for layer in layers:
        s = sparsity[layer.name]
        if design in ("index_free", "index_free_diff"):
            total += s * layer.weights * dev.sparsity_write_energy_j
        else:
            gr, gc = granule(design, arch)
            bits = sum(index_address_bits(design, arch).values())
            total += (1 - s) * layer.weights / (gr * gc) * bits * arch.chip_buffer_j_per_bit
    return total
