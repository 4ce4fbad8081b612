"""Numpy fast path of array operations: same equations as the single-device model, vectorized."""
from __future__ import annotations

import numpy as np
import pytest

from fefet_spice import waveforms as wf
from fefet_spice.array import FastArray, FastPathLimitWarning, mac_read, row_column_vau, sparsity_write, write_cells
from fefet_spice.errors import ParamError
from fefet_spice.model import simulate
from fefet_spice.model.channel import drain_current


def test_row_step_equals_single_device_model(weight):
    op = weight.op
    sched = row_column_vau(np.array([7, -3]), np.zeros(1, int), op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
    fa = FastArray(weight, np.ones((2, 1), bool)).apply(sched)
    for row, amps in ((0, [op.v_pulse_up] * 7), (1, [op.v_pulse_dn] * 3)):
        res = simulate(weight, wf.pulse_train(amps, op.t_pulse, gap=op.t_gap), vd=op.v_read_d)
        np.testing.assert_allclose(fa.p_norm[row, 0], res.state.mean(), rtol=0, atol=1e-12)


def test_column_step_drives_and_masking(weight):
    op = weight.op
    mask = np.array([[True, True, False]])
    sched = row_column_vau(np.zeros(1, int), np.array([2, 0, 0]), op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
    fa = FastArray(weight, mask, s_init=-0.3)
    d = fa.drives(sched)
    pulse = np.flatnonzero(sched.bl[0] != 0)[0]
    # kept: full drive; kept in an unselected column: halved; pruned: gate held at 0 V behind the off FeFET
    np.testing.assert_allclose(d[pulse, 0], [op.v_pulse_up, 0.5 * op.v_pulse_up, -0.5 * op.v_pulse_up])
    g0 = fa.conductance()
    with pytest.warns(FastPathLimitWarning, match="1 pruned cell"):  # the pruned cell is not at G_min
        g1 = fa.apply(sched).conductance()
    assert fa.limits and "pruned" in fa.limits[0]
    level = (drain_current(weight.channel, op.v_read_g, op.v_read_d, weight.vt_mid - weight.mw / 2)
             - drain_current(weight.channel, op.v_read_g, op.v_read_d, weight.vt_mid + weight.mw / 2)) / op.v_read_d / 16
    assert g1[0, 0] - g0[0, 0] > level
    assert abs(g1[0, 1] - g0[0, 1]) < 0.5 * level
    assert g1[0, 2] == g0[0, 2]


def test_per_cell_variation_and_schedules(weight):
    from fefet_spice.model import sample_devices

    op = weight.op
    devs = sample_devices(presets_with_variation(weight), 4, np.random.default_rng(0))
    fa = FastArray(weight, np.ones((2, 2), bool), devices=devs)
    fa.apply(write_cells(2, 2, [(0, 0, 3), (1, 1, 2)], op.v_pulse_up, op.t_pulse, op.t_gap))
    p = fa.p_norm
    assert p[0, 0] > p[1, 1] > -1 and p[0, 1] == -1
    s = sparsity_write(2, 2, [1], -10.0, 1e-5, 1e-6)
    assert s.spl[1].min() == -10.0 and s.spl[0].min() == 0.0
    rd = mac_read([0.1, 0.05], 2, op.v_read_g, op.t_read)
    assert rd.dil[:, -1].tolist() == [0.1, 0.05]
    with pytest.raises(ParamError):
        row_column_vau([1], [1], -1.0, -1.0, 1e-6, 1e-6)


def presets_with_variation(weight):
    from dataclasses import replace

    return replace(weight, sigma_ea_d2d=0.02, sigma_vt_d2d=0.02)


def test_fast_mac_is_sum_gv(weight):
    mask = np.array([[True, False], [True, True]])
    fa = FastArray(weight, mask, s_init=np.array([[0.2, 0.9], [-0.5, 0.1]]))
    v = np.array([0.1, 0.05])
    vt = fa.vt()
    expect = [drain_current(weight.channel, 1.0, 0.1, vt[0, 0]) + drain_current(weight.channel, 1.0, 0.05, vt[1, 0]),
              drain_current(weight.channel, 1.0, 0.05, vt[1, 1])]
    np.testing.assert_allclose(fa.mac(v), expect, rtol=1e-12)


def test_fast_path_names_the_cases_it_cannot_represent(weight):
    """Short pulses, resistive lines and pruned cells away from G_min are reported (never a silent 0 for a cell
    that the deck moves); a case inside the limits is silent."""
    op = weight.op
    mask = np.array([[True, False]])
    ok = row_column_vau(np.zeros(1, int), np.array([1, 1]), op.v_pulse_up, op.v_pulse_dn, 1e-6, 1e-6)
    fa = FastArray(weight, mask, s_init=np.array([[-0.3, -1.0]]))
    assert fa.check(ok) == [] and fa.check(ok, r_line=200.0) == []  # 400 ohm along a line of 2 cells
    short = row_column_vau(np.zeros(1, int), np.array([1, 1]), 5.5, -4.7, 10e-9, 10e-9)
    reasons = fa.check(short, r_line=250.0)
    assert len(reasons) == 2 and "shorter" in reasons[0] and "500 ohm along a line" in reasons[1]
    mid = FastArray(weight, mask, s_init=0.0)
    with pytest.warns(FastPathLimitWarning, match="pruned"):
        mid.apply(ok)
    assert len(mid.limits) == 1
