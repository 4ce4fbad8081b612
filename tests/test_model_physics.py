"""Physics of the numpy compact model (issue 2): each assertion can fail on a wrong model."""
import numpy as np
import pytest

from fefet_spice import presets, simulate, waveforms as wf
from fefet_spice.model import (drain_current, intrinsic_current, merz_switching_voltage,
                               one_pulse_polarization, subthreshold_swing)
from fefet_spice.model.metrics import memory_window


def _mw(params, vmax, step=0.02):
    res = simulate(params, wf.dc_double_sweep(-vmax, vmax, step=step, rate=1.0), vd=0.1)
    return memory_window(res.vg, res.id[0], 1e-8), res


def test_counter_clockwise_loop(weight):
    mw, res = _mw(weight, 6.0)
    assert mw > 0.9 * weight.mw
    vg, i = res.vg, res.id[0]
    k = int(np.argmax(vg))
    fwd = np.interp(0.0, vg[: k + 1], i[: k + 1])
    bwd = np.interp(0.0, vg[k:][::-1], i[k:][::-1])
    assert bwd > 100 * fwd  # after the positive excursion the n-FET conducts more: counter-clockwise


def test_memory_window_grows_with_amplitude_and_saturates(weight):
    amps = [2.6, 3.1, 3.3, 3.6, 4.5, 6.0, 8.0]
    mws = [_mw(weight, a)[0] for a in amps]
    mws = np.nan_to_num(mws, nan=0.0)
    assert np.all(np.diff(mws) >= -1e-3), mws
    assert mws[0] < 0.2 * mws[-1]
    assert abs(mws[-1] - mws[-2]) < 0.02 * mws[-1]
    assert mws[-1] == pytest.approx(weight.mw, rel=0.05)


def _minor_loop(params, a, rate, step=0.01):
    return simulate(params, wf.minor_loop_sweep([-6, a, -a, a], step=step, rate=rate))


def test_minor_loops_inside_major_loop(weight):
    major = simulate(weight, wf.dc_double_sweep(-6, 6, step=0.01, rate=1.0))
    k = int(np.argmax(major.vg))
    pm = major.polarization[0]
    ps2 = 2 * weight.ferro.ps
    for a in (3.15, 3.24, 3.35):
        minor = _minor_loop(weight, a, 1.0)
        pn = minor.polarization[0]
        lower = np.interp(minor.vg, major.vg[: k + 1], pm[: k + 1])
        upper = np.interp(minor.vg, major.vg[k:][::-1], pm[k:][::-1])
        assert np.all(pn >= lower - 0.01 * ps2) and np.all(pn <= upper + 0.01 * ps2)
        assert pn.max() < 0.9 * weight.ferro.ps  # a real minor loop: partially switched


def test_return_point_memory_in_the_slow_limit(weight):
    """A symmetric minor loop returns to its turning point; the residual (NLS accumulation of
    partially switched domains, physical in HZO) shrinks as the sweep slows."""
    ps2 = 2 * weight.ferro.ps
    errors = []
    for rate, a in ((1e3, 3.74), (1.0, 3.24), (1e-3, 2.88), (1e-6, 2.62)):
        res = _minor_loop(weight, a, rate, step=0.02)
        p = res.polarization[0]
        first = p[np.flatnonzero(np.isclose(res.vg, a))[0]]
        assert abs(first) < 0.5 * weight.ferro.ps  # turning point in the partially switched region
        errors.append(abs(p[-1] - first) / ps2)
    assert np.all(np.diff(errors) < 0), errors
    assert errors[1] < 0.02 and errors[-1] < 0.005


def test_identical_pulses_monotonic_saturating(weight):
    res = simulate(weight, wf.potentiation_depression(weight, 80, 80))
    g = res.g_after_pulse[0]
    up, dn = g[:80], g[80:]
    assert np.all(np.diff(up) >= -1e-15) and np.all(np.diff(dn) <= 1e-15)
    steps = np.diff(up)
    assert steps[-10:].mean() < 0.25 * steps[5:15].mean()  # saturates


@pytest.mark.parametrize("vary", ["amplitude", "width"])
def test_larger_pulse_gives_larger_first_step(weight, vary):
    op = weight.op
    first = []
    for k in (1.0, 1.05, 1.1):
        amp = op.v_pulse_up * (k if vary == "amplitude" else 1.0)
        width = op.t_pulse * (k ** 20 if vary == "width" else 1.0)
        res = simulate(weight, wf.identical_pulses(1, amp, width), s_init=-1.0)
        first.append(res.polarization[0, -1] + weight.ferro.ps)
    assert first[0] > 0 and first[1] > 1.2 * first[0] and first[2] > 1.2 * first[1]


def test_half_switching_voltage_follows_merz_law(weight):
    fp = weight.ferro
    amps = np.linspace(2.5, 7.0, 451)
    for width in (1e-8, 1e-7, 1e-6, 1e-5, 1e-4):
        p = [simulate(weight, wf.identical_pulses(1, a, width)).polarization[0, 0] for a in amps[::10]]
        v50_sim = np.interp(0.0, p, amps[::10])
        # half of the domains flip where r * width = ln 2: the Merz law with tau0 -> tau0 ln 2
        v50 = merz_switching_voltage(fp.ea_up, width, fp.alpha, fp.tau0 * np.log(2.0))
        assert v50_sim == pytest.approx(v50, rel=0.01), width
        p_fast = one_pulse_polarization(fp, amps, width)
        assert np.interp(0.0, p_fast, amps) == pytest.approx(v50, rel=0.01)


def test_time_step_refinement_converges(weight):
    turn = []
    for step in (0.01, 0.005, 0.0025):
        res = simulate(weight, wf.minor_loop_sweep([-6, 3.3, -6], step=step, rate=1.0))
        turn.append(res.polarization[0][np.argmax(res.vg)])
    ps2 = 2 * weight.ferro.ps
    assert abs(turn[2] - turn[1]) < abs(turn[1] - turn[0]) + 1e-12
    assert abs(turn[2] - turn[1]) < 0.005 * ps2
    # pulses: splitting every segment into ten sub-steps changes nothing (exact update)
    w = wf.identical_pulses(20, weight.op.v_pulse_up, weight.op.t_pulse)
    fine = wf.concat(*[wf.pulse_train([a], weight.op.t_pulse / 10, gap=1e-12) for a in np.repeat(w.vg[::2], 10)])
    a = simulate(weight, w).state
    b = simulate(weight, fine).state
    assert np.allclose(a, b, atol=1e-9)


def test_stretched_kinetics_beta_refines_exactly(weight):
    from dataclasses import replace

    p = replace(weight, ferro=replace(weight.ferro, beta=1.7))
    w = wf.identical_pulses(10, 4.3, 1e-6, gap=1e-12)
    fine = wf.pulse_train(np.repeat(w.vg[::2], 4), 0.25e-6, gap=1e-12)
    assert np.allclose(simulate(p, w).state, simulate(p, fine).state, atol=1e-9)


def test_same_seed_same_result_and_variation_present():
    p = presets.get("weight")
    w = wf.potentiation_depression(p, 10, 10)
    a = simulate(p, w, n_devices=5, seed=7)
    b = simulate(p, w, n_devices=5, seed=7)
    c = simulate(p, w, n_devices=5, seed=8)
    assert np.array_equal(a.g_after_pulse, b.g_after_pulse)
    assert not np.array_equal(a.g_after_pulse, c.g_after_pulse)
    assert np.ptp(a.g_after_pulse[:, 9]) > 0  # device-to-device spread


def test_subthreshold_swing_is_n_times_60mv_per_decade(weight):
    ch = weight.channel
    vg = np.array([-1.0, -0.9])
    i = intrinsic_current(ch.__class__(**{**ch.__dict__, "g_floor": 0.0}), vg, 0.1, 0.0, 0.5)
    ss = (vg[1] - vg[0]) / np.log10(i[1] / i[0])
    assert ss == pytest.approx(subthreshold_swing(ch), rel=0.01)
    assert subthreshold_swing(ch) == pytest.approx(ch.n_ss * 0.0595, rel=0.01)


def test_contact_resistance_solution_is_self_consistent(weight):
    ch = weight.channel
    i = drain_current(ch, 2.0, 0.1, -0.5)
    half = 0.5 * ch.r_contact
    assert i == pytest.approx(intrinsic_current(ch, 2.0, 0.1 - i * half, i * half, -0.5), rel=1e-9)
    assert i < intrinsic_current(ch, 2.0, 0.1, 0.0, -0.5)
