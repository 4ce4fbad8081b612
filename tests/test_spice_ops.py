"""Cell-level operations in ngspice: cell-by-cell writes with inhibit, pruning/regrowth, topology A vs B."""
from __future__ import annotations

import numpy as np

from fefet_spice.array import FastArray, sparsity_write, write_cells
from fefet_spice.model.channel import drain_current
from fefet_spice.spice.array import ArrayConfig, initial_state, run_array, weight_conductance
from fefet_spice.spice.bench import cell_pulse_response


def _span(w):
    op = w.op
    g = drain_current(w.channel, op.v_read_g, op.v_read_d, np.array([w.vt_mid + 0.5 * w.mw, w.vt_mid - 0.5 * w.mw]))
    return float(g[1] - g[0]) / op.v_read_d


def test_cell_by_cell_write_with_inhibit_matches_fast_path(weight, sparsity):
    op = weight.op
    mask = np.ones((2, 2), bool)
    sched = write_cells(2, 2, [(0, 0, 4), (1, 1, 2)], op.v_pulse_up, op.t_pulse, op.t_gap)
    cfg = ArrayConfig()
    state = initial_state(2, 2, mask, cfg, s_weight=-0.3)
    g0 = weight_conductance(weight, state)
    g1 = weight_conductance(weight, run_array(weight, sparsity, state, sched, cfg).state)
    level = _span(weight) / 16
    assert g1[0, 0] - g0[0, 0] > 2 * level and g1[1, 1] - g0[1, 1] > level
    assert abs(g1[0, 1] - g0[0, 1]) < 0.5 * level and abs(g1[1, 0] - g0[1, 0]) < 0.5 * level
    fast = FastArray(weight, mask, s_init=-0.3).apply(sched).conductance()
    assert np.abs(g1 - fast).max() < 0.02 * _span(weight)


def test_prune_then_regrow_a_row(weight, sparsity):
    sop = sparsity.op
    cfg = ArrayConfig()
    state = initial_state(2, 2, True, cfg)
    pruned = run_array(weight, sparsity, state, sparsity_write(2, 2, [0], sop.v_pulse_dn, sop.t_pulse, sop.t_gap, count=4),
                       cfg).state
    s = pruned.sparsity.mean(-1)
    assert np.all(s[0] < -0.9) and np.all(s[1] > 0.99)
    assert np.abs(pruned.weight - state.weight).max() < 1e-3  # weights stay at G_min
    regrown = run_array(weight, sparsity, pruned, sparsity_write(2, 2, [0], sop.v_pulse_up, sop.t_pulse, sop.t_gap, count=4),
                        cfg).state
    assert np.all(regrown.sparsity.mean(-1) > 0.9)


def test_topology_b_masks_and_a_is_measured(weight, sparsity):
    amps = np.full(4, weight.op.v_pulse_up)
    width = weight.op.t_pulse
    span = _span(weight)
    for topo in ("B", "A"):
        on = cell_pulse_response(weight, sparsity, amps, width, topology=topo)
        off = cell_pulse_response(weight, sparsity, amps, width, topology=topo, sparsity_on=False)
        assert on["g"][-1] > 0.05 * span
        assert on["p_final"] > -0.9
        if topo == "B":  # the weight gate of a pruned cell is reached only through the off FeFET
            assert off["p_final"] + 1 < 0.01 * (on["p_final"] + 1)
