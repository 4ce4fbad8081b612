"""Write and read energies measured in ngspice (integral of V*I over every line source).

:func:`measure_energies` returns the ``fefet-energy/1`` record the cost model reads::

    {"schema": "fefet-energy/1", "write_energy_per_pulse_j", "write_energy_half_select_j",
     "write_pulse_width_s", "write_pulse_amplitude_v", "read_energy_per_cell_j", "read_time_s",
     "read_voltage_v", "gate_capacitance_f", "line_capacitance_per_cell_f",
     "sparsity_write_energy_j", "provenance": {...}}

Write energies are means over identical up and down pulses of one cell (pulse + gap, all sources);
the half-selected cell has its DOL at the pulse amplitude (a VAU unselected column: the weight
channel then conducts between DOL and the grounded DIL, which dominates). The read energy is one
cell read at V_D (weight mid-range, gate at the read voltage through the sparsity FeFET).
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from ..array.schedule import mac_read, sparsity_write
from ..params import FeFETParams, to_dict
from .array import ArrayConfig, array_deck, initial_state
from .bench import cell_pulse_response
from .deck import SolverOptions, energy
from .device import binned_device
from . import runner

SCHEMA = "fefet-energy/1"
ENERGY_OPTIONS = SolverOptions(reltol=1e-4, max_steps_per_segment=4.0)
"""Tighter than the array default: the energy changes by < 0.5 % with reltol 1e-5 and 20 steps/segment."""


def _hash(params: FeFETParams) -> str:
    return hashlib.sha256(json.dumps(to_dict(params), sort_keys=True).encode()).hexdigest()[:16]


def _run_energy(wp, sp, state, sched, cfg, t0, t1, backend) -> float:
    deck = array_deck(binned_device(wp, cfg.bins_weight), binned_device(sp, cfg.bins_sparsity), state, sched,
                      cfg, ENERGY_OPTIONS, save_currents=True, title="energy")
    vec = runner.run(deck, backend=backend)
    src = {"bl0": ("bl0", "0"), "dil0": ("dil0", "0"), "dol0": ("dol0", "0")}
    if sched.spl is not None:
        src["spl0"] = ("spl0", "0")
    return energy(vec["time"], vec, src, t0, t1)


def measure_energies(weight: FeFETParams, sparsity: FeFETParams, n_pulses: int = 6,
                     cfg: ArrayConfig = ArrayConfig(), backend: str = "auto") -> dict:
    """Measure the ``fefet-energy/1`` record in ngspice (a few single-cell decks, about a second)."""
    op = weight.op
    amps = [op.v_pulse_up] * n_pulses + [op.v_pulse_dn] * n_pulses
    full = cell_pulse_response(weight, sparsity, amps, op.t_pulse, options=ENERGY_OPTIONS, backend=backend)
    half = cell_pulse_response(weight, sparsity, amps, op.t_pulse, half_selected=True,
                               options=ENERGY_OPTIONS, backend=backend)
    state = initial_state(1, 1, True, cfg, s_weight=0.0)
    rd = mac_read([op.v_read_d], 1, op.v_read_g, op.t_read)
    e_read = _run_energy(weight, sparsity, state, rd, cfg, float(rd.dt[0]), float(rd.dt.sum()), backend)
    sop = sparsity.op
    sw = sparsity_write(1, 1, [0], sop.v_pulse_dn, sop.t_pulse, sop.t_gap)
    e_sw = _run_energy(weight, sparsity, initial_state(1, 1, True, cfg), sw, cfg, float(sw.dt[0]),
                       float(sw.dt.sum()), backend)
    return {
        "schema": SCHEMA,
        "write_energy_per_pulse_j": float(np.mean(full["energy_j"])),
        "write_energy_half_select_j": float(np.mean(half["energy_j"])),
        "write_pulse_width_s": float(op.t_pulse),
        "write_pulse_amplitude_v": float(op.v_pulse_up),
        "read_energy_per_cell_j": float(e_read),
        "read_time_s": float(op.t_read),
        "read_voltage_v": float(op.v_read_d),
        "gate_capacitance_f": float(binned_device(weight, cfg.bins_weight).gate_capacitance),
        "line_capacitance_per_cell_f": float(cfg.c_line),
        "sparsity_write_energy_j": float(e_sw),
        "provenance": {
            "simulator": "ngspice", "weight_params_sha256_16": _hash(weight),
            "sparsity_params_sha256_16": _hash(sparsity), "weight_name": weight.name,
            "sparsity_name": sparsity.name, "topology": cfg.topology, "bins_weight": cfg.bins_weight,
            "bins_sparsity": cfg.bins_sparsity, "reltol": ENERGY_OPTIONS.reltol, "method": ENERGY_OPTIONS.method,
            "pulses_averaged": 2 * n_pulses, "read_gate_v": float(op.v_read_g),
            "sparsity_pulse_v": float(sop.v_pulse_dn), "sparsity_pulse_s": float(sop.t_pulse),
            "method_note": "energy = -integral of sum V*I over all line sources (pulse + gap)",
        },
    }
