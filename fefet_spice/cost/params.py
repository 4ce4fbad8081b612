"""Parameters of the weight-update cost model: device numbers and architecture constants (SI units).

Two frozen dataclasses:

* :class:`DeviceEnergy` -- per-cell numbers that come from our ngspice characterization
  (schema ``fefet-energy/1``, read with :func:`fefet_spice.cost.energy_file.load_energy`). Its
  defaults are analytic estimates for the ``weight`` preset, used when no file is given.
* :class:`ArchParams` -- every other constant (buffers, buses, wires, decoders, ADC, clock,
  static power, pulse statistics), each with its source or marked as our assumption.

References
----------
* Ning et al., Nature Electronics 8 (2025), DOI 10.1038/s41928-024-01328-4 (the paper).
* Peng, Huang, Luo, Yu, "DNN+NeuroSim V2.0", IEEE TCAD 40, 2306 (2021),
  DOI 10.1109/TCAD.2020.3043731; code defaults from DNN_NeuroSim_V2.1 ``Param.cpp``/``SubArray.cpp``.
* Horowitz, "Computing's energy problem", ISSCC 2014, DOI 10.1109/ISSCC.2014.6757323.
* Han et al., "EIE", ISCA 2016, DOI 10.1109/ISCA.2016.30 (one nonzero per cycle per decoder).
* Murmann, "ADC Performance Survey 1997-2024" (Walden figure of merit of SAR ADCs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ParamError

ENERGY_SCHEMA = "fefet-energy/1"

_EPS0 = 8.8541878128e-12


OPTIONAL_ZERO = ("write_energy_half_select_j", "write_energy_masked_select_j", "write_energy_masked_half_j")
"""Fields that may be 0; the two masked-cell energies may also be absent from a file."""


@dataclass(frozen=True)
class DeviceEnergy:
    """Per-cell device numbers of one FeFET cell (weight FeFET + its line share).

    Defaults: analytic estimates for ``presets.get("weight")`` (Ps = 0.20 C/m^2, A = 1 um^2,
    eps_r = 35, t_FE = 10 nm, identical +/-3.9 V / 1 us pulses, 16 levels), replaced by the
    measured values of ``fefet-spice`` SPICE characterization when an energy file is given.
    """

    write_energy_per_pulse_j: float = 5.70e-13
    """Energy drawn per write pulse by a selected cell [J]. Default: gate charging C_g V^2
    (4.71e-13 J) plus switched polarization 2 Ps A V / 16 levels (0.98e-13 J)."""
    write_energy_half_select_j: float = 2.36e-13
    """Energy per pulse of a half-selected (inhibited) active cell on a driven line [J]. Default:
    C_g V (V - V_comp) with V_comp = V/2 (gate charged, ferroelectric not switched)."""
    write_pulse_width_s: float = 1e-6
    """Write pulse width [s]. Default: the weight preset's identical 1 us pulses (README)."""
    write_pulse_amplitude_v: float = 3.9
    """Write pulse amplitude [V]. Default: the weight preset's +/-3.9 V pulses."""
    read_energy_per_cell_j: float = 6.0e-16
    """Energy of one cell read [J]. Default: V_D^2 G t_read = 0.1^2 x 6 uS x 10 ns."""
    read_time_s: float = 10e-9
    """Duration of one read [s]. Default: NeuroSim V2.1 readPulseWidth = 10 ns."""
    read_voltage_v: float = 0.1
    """Drain read voltage [V]. Default: SPEC 1, V_D = 0.1 V."""
    gate_capacitance_f: float = 3.10e-14
    """Gate capacitance of the weight FeFET [F]. Default: eps_r eps0 A / t_FE = 35 eps0 1um^2/10nm."""
    line_capacitance_per_cell_f: float = 0.4e-15
    """Wire capacitance of a line per cell it crosses [F]. Default: 0.2 fF/um (NeuroSim
    SubArray.cpp) x 2 um cell pitch (our assumption for a 2 um-channel 2D FeFET cell)."""
    sparsity_write_energy_j: float = 4.5e-12
    """Energy to set or reset one sparsity FeFET (pruning / regrowth event) [J]. Default: 2 Ps A
    x 8.5 V (3.4 pJ, SPEC 1: 2x switching voltage) plus gate charging of a 20 nm FE layer (1.1 pJ)."""
    write_energy_masked_select_j: float = 0.0
    """Energy per pulse of a pruned (masked) cell in the selected column of a VAU column step [J].
    Optional in the file (default 0: the sparsity FeFET masks perfectly); measured per programming
    scheme by ``fefet-spice schemes``."""
    write_energy_masked_half_j: float = 0.0
    """Energy per pulse of a pruned cell in an unselected column of a VAU column step [J] (optional)."""
    provenance: dict | None = None
    """Where the numbers come from (free-form, copied from the energy file) [-]."""

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "provenance":
                if self.provenance is not None and not isinstance(self.provenance, dict):
                    raise ParamError(f"provenance: expected an object, got {self.provenance!r}")
                continue
            _positive(f.name, getattr(self, f.name), allow_zero=f.name in OPTIONAL_ZERO)
            hi = _DEVICE_MAX.get(f.name.rsplit("_", 1)[-1])
            if hi is not None and getattr(self, f.name) > hi:
                raise ParamError(f"{f.name}: {getattr(self, f.name)!r} is not a physical device value (at most {hi:g})")


def neurosim_reference_device() -> DeviceEnergy:
    """Device numbers built from DNN+NeuroSim V2.1 ``Param.cpp`` FeFET defaults.

    This is the device the paper's modified NeuroSim most plausibly saw: gateCapFeFET = 2.1717e-18 F,
    writeVoltage = 4 V, writePulseWidth = 50 ns, readVoltage = 0.5 V, readPulseWidth = 10 ns, a
    1T1R cell 4F wide at F = 40 nm with 0.2 fF/um wire capacitance. The selected-cell energy is the
    gate charging C_g V^2 (NeuroSim V2.1 adds a polarization term whose size the paper does not state;
    we add 2 Ps A V / 32 levels for a 4F x 4F = 0.0256 um^2 capacitor at Ps = 20 uC/cm^2).
    """
    cg, v = 2.1717e-18, 4.0
    pol = 2 * 0.20 * (160e-9) ** 2 * v / 32
    return DeviceEnergy(
        write_energy_per_pulse_j=cg * v * v + pol, write_energy_half_select_j=cg * v * v / 2,
        write_pulse_width_s=50e-9, write_pulse_amplitude_v=v, read_energy_per_cell_j=0.5 ** 2 / 100e3 * 10e-9,
        read_time_s=10e-9, read_voltage_v=0.5, gate_capacitance_f=cg,
        line_capacitance_per_cell_f=0.2e-15 / 1e-6 * 160e-9, sparsity_write_energy_j=2 * pol * 32,
        provenance={"source": "DNN_NeuroSim_V2.1 Param.cpp FeFET defaults (see docstring)"})


def default_device_estimate() -> dict[str, float]:
    """Re-derive the :class:`DeviceEnergy` defaults from the ``weight`` preset (documentation check)."""
    ps, area, eps_r, t_fe, v, levels = 0.20, 1e-12, 35.0, 10e-9, 3.9, 16
    cg = eps_r * _EPS0 * area / t_fe
    return {"gate_capacitance_f": cg, "write_energy_per_pulse_j": cg * v * v + 2 * ps * area * v / levels,
            "write_energy_half_select_j": cg * v * (v - v / 2)}


@dataclass(frozen=True)
class ArchParams:
    """Architecture and circuit constants of the weight-update stage (everything but the device).

    Sources are in brackets; *assumption* marks our own choices (see docs/cost_model.md).
    """

    array_rows: int = 64
    """Rows per array M [-] (paper, SPEC 5)."""
    array_cols: int = 64
    """Columns per array N [-] (paper, SPEC 5)."""
    arrays_per_pe: int = 16
    """Arrays per processing element [-] (paper, SPEC 5)."""
    pes_per_tile: int = 4
    """PEs per tile [-] (paper, SPEC 5)."""
    chip_tiles: int = 44
    """Tiles on the chip [-] (paper, SPEC 5); sets the tile-address width and the static power."""
    clock_hz: float = 1e9
    """Digital clock [Hz] (NeuroSim V2.1 Param.cpp clkFreq)."""
    dw_bits: int = 8
    """Bits per transferred weight update dW [-] (paper: 8-bit gradients)."""
    operator_bits: int = 8
    """Bits per VAU row/column operator [-] (assumption: same precision as dW)."""
    chip_bus_bits: int = 256
    """Chip-level (global H-tree) bus width [bit] (assumption; NeuroSim sizes it from the floorplan,
    capped by maxGlobalBusWidth = 8192)."""
    tile_bus_bits: int = 128
    """Tile-level bus width, one per tile [bit] (assumption)."""
    pe_bus_bits: int = 64
    """PE-level bus width, one per PE [bit] (assumption)."""
    wire_cap_per_m: float = 2e-10
    """Interconnect capacitance [F/m] (NeuroSim SubArray.cpp: 0.2 fF/um)."""
    vdd: float = 0.9
    """Logic supply [V] (assumption: 32 nm-class logic, NeuroSim technode = 32)."""
    wire_activity: float = 0.5
    """Switching activity of a bus bit [-] (assumption: random data)."""
    chip_wire_m: float = 4e-3
    """Mean wire length global buffer -> tile [m] (assumption: H-tree on a ~10 mm die)."""
    tile_wire_m: float = 0.5e-3
    """Mean wire length tile buffer -> PE [m] (assumption)."""
    pe_wire_m: float = 0.1e-3
    """Mean wire length PE buffer -> array [m] (assumption)."""
    chip_buffer_j_per_bit: float = 0.08e-12
    """Global buffer access energy [J/bit] (Horowitz 2014: 8 KB SRAM, 10 pJ per 64-bit read at
    45 nm = 0.16 pJ/bit, halved for 32 nm; CACTI-like)."""
    tile_buffer_j_per_bit: float = 0.04e-12
    """Tile buffer access energy [J/bit] (assumption: 32x32 register-file cores, NeuroSim default
    tileBufferCoreSize; half the global figure)."""
    pe_buffer_j_per_bit: float = 0.02e-12
    """PE buffer access energy [J/bit] (assumption: small register file)."""
    decoder_energy_j: float = 0.05e-12
    """Energy to decode one index into an address at one level [J] (assumption: about two 8-bit
    additions, Horowitz 2014: 0.03 pJ each at 45 nm)."""
    chip_index_decoders: int = 1
    """Index decoders at chip level, each one index per cycle [-] (assumption after EIE: one
    nonzero per cycle per decoder; CSR/COO walks are sequential)."""
    block_rows: int = 8
    """Rows of one block in block-wise sparsity [-] (assumption)."""
    block_cols: int = 8
    """Columns of one block in block-wise sparsity [-] (assumption)."""
    vector_length: int = 8
    """Weights per vector (along a row) in vector-wise sparsity [-] (assumption)."""
    add_energy_j: float = 0.03e-12
    """Energy of one 8-bit addition (VAU operator sums) [J] (Horowitz 2014, 45 nm)."""
    vau_adders: int = 1024
    """Adders computing VAU row/column sums in parallel [-] (assumption)."""
    adc_bits: int = 5
    """ADC resolution [bit] (paper: 5-bit ADC)."""
    adc_fom_j_per_step: float = 10e-15
    """SAR ADC Walden figure of merit [J/conversion-step] (Murmann survey, typical SAR)."""
    col_mux: int = 8
    """Columns sharing one ADC [-] (NeuroSim V2.1 numColMuxed)."""
    verify_passes: int = 0
    """Read-verify passes after each layer update [-] (NeuroSim V2.1's weight update has none;
    set 1 for the paper's write-and-verify hardware)."""
    pulse_slots_per_phase: int = 2
    """Pulse slots per write phase = largest pulse count in one operation [-] (assumption: a
    per-iteration update is at most 2 device steps)."""
    mean_pulses_per_update: float = 1.0
    """Mean pulses received by an updated cell per update [-] (assumption)."""
    pulse_gap_s: float = 0.0
    """Idle time between pulses [s] (assumption)."""
    cells_per_weight: int = 1
    """Cells per weight in the single-cell designs [-] (assumption: one analog FeFET per weight)."""
    static_power_per_array_w: float = 30e-6
    """Static (leakage) power per mapped array, including its share of PE/tile/chip buffers and
    peripherals [W] (assumption: 0.095 W for VGG-8's 3182 arrays; not sourced -- chosen in the range
    the paper's ratios imply, see docs/cost_model.md)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ParamError(f"{f.name}: expected an integer, got {value!r}")
                lo = 0 if f.name == "verify_passes" else 1
                if value < lo:
                    raise ParamError(f"{f.name}: must be >= {lo}, got {value!r}")
            else:
                _positive(f.name, value, allow_zero=f.name in ("pulse_gap_s", "static_power_per_array_w"))

    @property
    def wire_j_per_bit_m(self) -> float:
        """Wire energy per bit per metre [J/(bit m)]: activity x C' x Vdd^2."""
        return self.wire_activity * self.wire_cap_per_m * self.vdd ** 2

    @property
    def adc_energy_j(self) -> float:
        """Energy of one ADC conversion [J]: FoM x 2^bits."""
        return self.adc_fom_j_per_step * 2 ** self.adc_bits


_DEVICE_MAX = {"j": 1e-3, "s": 1.0, "v": 100.0, "f": 1e-6}
"""Upper bounds of device numbers by unit suffix (J per event, s, V, F): beyond them a typo or overflow."""


def _positive(name: str, value: Any, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParamError(f"{name}: expected a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ParamError(f"{name}: must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


_J = (0.0, 1e-9)  # an energy per bit/event/step: 0 < E <= 1 nJ (the defaults are 0.01..0.1 pJ)
ARCH_BOUNDS: dict[str, tuple[float, float]] = {
    "array_rows": (1, 16384), "array_cols": (1, 16384), "arrays_per_pe": (1, 4096), "pes_per_tile": (1, 4096),
    "chip_tiles": (1, 1_000_000), "clock_hz": (1e3, 1e12), "dw_bits": (1, 64), "operator_bits": (1, 64),
    "chip_bus_bits": (1, 65536), "tile_bus_bits": (1, 65536), "pe_bus_bits": (1, 65536),
    "wire_cap_per_m": (0.0, 1e-8), "vdd": (0.0, 10.0), "wire_activity": (0.0, 1.0), "chip_wire_m": (0.0, 1.0),
    "tile_wire_m": (0.0, 1.0), "pe_wire_m": (0.0, 1.0), "chip_buffer_j_per_bit": _J, "tile_buffer_j_per_bit": _J,
    "pe_buffer_j_per_bit": _J, "decoder_energy_j": _J, "chip_index_decoders": (1, 1_000_000),
    "block_rows": (1, 16384), "block_cols": (1, 16384), "vector_length": (1, 16384), "add_energy_j": _J,
    "vau_adders": (1, 10_000_000), "adc_bits": (1, 16), "adc_fom_j_per_step": _J, "col_mux": (1, 16384),
    "verify_passes": (0, 100), "pulse_slots_per_phase": (1, 10_000), "mean_pulses_per_update": (0.0, 10_000.0),
    "pulse_gap_s": (0.0, 1.0), "cells_per_weight": (1, 64), "static_power_per_array_w": (0.0, 1.0),
}
"""Physically generous range of each :class:`ArchParams` field given by a user (``cost --set``), checked
by :func:`arch_from_dict` before any work (the lower bound of a float field is exclusive unless the field
may be 0). Also: a block or vector no larger than the array (block_rows <= array_rows, block_cols,
vector_length and col_mux <= array_cols)."""
_WITHIN = {"block_rows": "array_rows", "block_cols": "array_cols", "vector_length": "array_cols",
           "col_mux": "array_cols"}


def check_arch_bounds(arch: ArchParams, given=None) -> None:
    """ParamError naming the field if a field of ``arch`` (of ``given``, default all) is outside
    :data:`ARCH_BOUNDS` or a block/vector is larger than the array."""
    names = [f.name for f in fields(arch)] if given is None else list(given)
    for name in names:
        lo, hi = ARCH_BOUNDS[name]
        value = getattr(arch, name)
        if not lo <= value <= hi:
            raise ParamError(f"{name}: {value!r} is outside the physically meaningful range {lo:g}..{hi:g}")
    for name, whole in _WITHIN.items():
        if getattr(arch, name) > getattr(arch, whole) and (given is None or name in given or whole in given):
            raise ParamError(f"{name}: {getattr(arch, name)!r} is larger than {whole} = {getattr(arch, whole)!r} "
                             "(a block, vector or ADC group lies within one array)")


def arch_from_dict(data: dict) -> ArchParams:
    """Build :class:`ArchParams` from a dict of overrides; unknown keys and values outside
    :data:`ARCH_BOUNDS` are rejected by name."""
    known = {f.name for f in fields(ArchParams)}
    bad = sorted(set(data) - known)
    if bad:
        raise ParamError(f"unknown architecture parameter(s): {', '.join(bad)}")
    arch = ArchParams(**data)
    check_arch_bounds(arch, data)
    return arch


def as_dict(obj) -> dict:
    """Field values of a parameter dataclass as a plain dict."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}
