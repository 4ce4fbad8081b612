"""Arrays in ngspice against the numpy fast path: VAU masking, half-select, MAC (real ngspice)."""
from __future__ import annotations

import numpy as np
import pytest

from fefet_spice.array import FastArray, row_column_vau
from fefet_spice.model.channel import drain_current
from fefet_spice.spice.array import ArrayConfig, initial_state, mac_currents, run_array, weight_conductance


def _g_range(w):
    op = w.op
    g = drain_current(w.channel, op.v_read_g, op.v_read_d, np.array([w.vt_mid + 0.5 * w.mw, w.vt_mid - 0.5 * w.mw]))
    return float(g[1] - g[0]) / op.v_read_d


@pytest.mark.slow
def test_vau_8x8_masks_pruned_cells_and_matches_fast_path(weight, sparsity):
    rng = np.random.default_rng(3)
    m = n = 8
    mask = rng.random((m, n)) >= 0.75  # about 75 % sparsity
    r = rng.integers(-2, 3, m)
    c = rng.integers(-2, 3, n)
    op = weight.op
    sched = row_column_vau(r, c, op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
    cfg = ArrayConfig()
    s0 = np.where(mask, -0.3, -1.0)  # kept cells mid-range, pruned cells at G_min (pruning rule)
    state = initial_state(m, n, mask, cfg)
    state.weight[:] = s0[..., None]
    g0 = weight_conductance(weight, state)
    out = run_array(weight, sparsity, state, sched, cfg)
    g1 = weight_conductance(weight, out.state)
    span = _g_range(weight)
    kept_change = np.abs(g1 - g0)[mask].mean()
    assert kept_change > 0.02 * span
    assert np.abs(g1 - g0)[~mask].max() < 0.01 * kept_change
    fast = FastArray(weight, mask, s_init=s0).apply(sched).conductance()
    err = np.abs(g1 - fast)[mask] / span
    assert err.max() < 0.02, f"kept cells differ from the fast path by up to {err.max():.4f} of range"
    # sparsity FeFETs undisturbed
    assert np.all(out.state.sparsity.mean(-1)[mask] > 0.99) and np.all(out.state.sparsity.mean(-1)[~mask] < -0.99)


def test_unselected_columns_move_less_than_half_a_level(weight, sparsity):
    m, n = 2, 3
    mask = np.ones((m, n), bool)
    op = weight.op
    sched = row_column_vau(np.zeros(m, int), np.array([4, 0, 0]), op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
    cfg = ArrayConfig()
    state = initial_state(m, n, mask, cfg, s_weight=-0.3)
    g0 = weight_conductance(weight, state)
    g1 = weight_conductance(weight, run_array(weight, sparsity, state, sched, cfg).state)
    level = _g_range(weight) / 16
    assert np.all(g1[:, 0] - g0[:, 0] > level)  # the selected column is written
    assert np.abs(g1[:, 1:] - g0[:, 1:]).max() < 0.5 * level


def test_mac_read_equals_sum_gv(weight, sparsity):
    rng = np.random.default_rng(5)
    m, n = 4, 3
    mask = rng.random((m, n)) >= 0.3
    cfg = ArrayConfig()
    state = initial_state(m, n, mask, cfg)
    state.weight[:] = np.where(mask, rng.uniform(-1, 1, (m, n)), -1.0)[..., None]  # pruned: G_min first
    v_in = rng.uniform(0.0, weight.op.v_read_d, m)
    i_dol, _ = mac_currents(weight, sparsity, state, v_in, cfg)
    vt = weight.vt_mid - 0.5 * weight.mw * state.weight.mean(-1)
    ideal = np.where(mask, drain_current(weight.channel, weight.op.v_read_g, v_in[:, None], vt), 0.0).sum(0)
    np.testing.assert_allclose(i_dol, ideal, rtol=0.01)
    i_r, _ = mac_currents(weight, sparsity, state, v_in, ArrayConfig(r_line=50.0))
    ir_err = np.abs(i_r - ideal) / ideal
    assert np.all(i_r <= ideal * 1.001) and ir_err.max() < 0.2
