"""Preset requirements of issue 2."""
import numpy as np
import pytest

from fefet_spice import presets, simulate, waveforms as wf
from fefet_spice.model import one_pulse_polarization
from fefet_spice.model.metrics import distinguishable_levels, memory_window


def _v50(p):
    amps = np.linspace(0.5, 20, 3901)
    return np.interp(0.0, one_pulse_polarization(p.ferro, amps, p.op.t_pulse), amps)


def test_weight_switching_centre(weight):
    assert _v50(weight) == pytest.approx(4.3, abs=0.15)


def test_weight_levels_range_on_off(weight):
    noisy = presets.get("weight")
    res = simulate(weight, wf.potentiation_depression(weight, 64, 64))
    g = np.concatenate([res.g_initial, res.g_after_pulse[0]])
    up, dn = g[:65], g[64:]
    step = 6 * noisy.read_noise  # six sigma of the preset's read noise
    assert distinguishable_levels(up, step) >= 16
    assert distinguishable_levels(dn, step) >= 16
    assert 5e-6 <= up.max() - g.min() <= 7.5e-6
    assert up.max() / g.min() >= 1e3


def test_sparsity_window_switching_on_off(weight, sparsity):
    assert _v50(sparsity) == pytest.approx(2 * _v50(weight), rel=0.1)
    mws = []
    for p, vmax in ((weight, 6.0), (sparsity, 12.0)):
        res = simulate(p, wf.dc_double_sweep(-vmax, vmax, step=0.02, rate=1.0))
        mws.append(memory_window(res.vg, res.id[0], 1e-8))
    assert mws[1] == pytest.approx(2 * mws[0], rel=0.15)
    res = simulate(sparsity, wf.potentiation_depression(sparsity, 1, 1))
    g_on, g_off = res.g_after_pulse[0]
    assert g_on / g_off >= 1e6 and g_on / res.g_initial[0] >= 1e6


@pytest.mark.parametrize("s_init", [-1.0, 1.0])
def test_sparsity_state_survives_100_weight_pulses(weight, sparsity, s_init):
    op = weight.op
    pulses = wf.pulse_train(np.tile([op.v_pulse_up, op.v_pulse_dn], 50), op.t_pulse, gap=op.t_gap)
    for amps in (pulses, wf.identical_pulses(100, op.v_pulse_up, op.t_pulse),
                 wf.identical_pulses(100, op.v_pulse_dn, op.t_pulse)):
        res = simulate(sparsity, amps, s_init=s_init)
        change = np.abs(res.polarization[0] - s_init * sparsity.ferro.ps).max()
        assert change < 0.01 * 2 * sparsity.ferro.ps
