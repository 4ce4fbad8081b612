"""The fast paths of the numpy kernel hold to the direct computations they replace (issue 18)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from fefet_spice import presets, simulate, waveforms as wf
from fefet_spice.model.channel import drain_current, read_current
from fefet_spice.model.simulate import sample_devices, threshold_voltage


def test_tabulated_read_current_matches_direct_solve():
    ch = presets.get("weight").channel
    vt = np.random.default_rng(3).uniform(-2.0, 3.0, 200_000)  # subthreshold to strong inversion
    for vg, vd in ((1.0, 0.1), (0.5, -0.05), (2.0, 1.0)):
        direct = drain_current(ch, vg, vd, vt)
        fast = read_current(ch, vg, vd, vt)
        assert np.max(np.abs(fast / direct - 1.0)) < 1e-8


def test_simulated_reads_equal_direct_channel_solve():
    """A pulse train large enough for the table: every read equals the direct solve at its own Vt."""
    p = presets.get("weight")
    amps = np.where(np.arange(60) % 20 < 10, p.op.v_pulse_up, p.op.v_pulse_dn)
    w = wf.pulse_train(amps, p.op.t_pulse, gap=p.op.t_gap, v_read_g=p.op.v_read_g, t_read=p.op.t_read,
                       v_read_d=p.op.v_read_d)
    noiseless = replace(p, read_noise=0.0)
    res = simulate(noiseless, w, n_devices=2000, seed=5)
    reads = w.mask("read")
    devices = sample_devices(noiseless, 2000, np.random.default_rng(5))
    vt = threshold_voltage(noiseless, res.p_norm[:, reads], devices.vt_shift[:, None])
    direct = drain_current(p.channel, p.op.v_read_g, p.op.v_read_d, vt)
    assert np.max(np.abs(res.id[:, reads] / direct - 1.0)) < 1e-8
    assert np.allclose(res.polarization, p.ferro.ps * res.p_norm)


def test_cycle_to_cycle_stream_is_reproducible_and_skips_idle_segments():
    """Jitter is drawn only for segments that move domains: adding idle reads leaves the pulses' draws alone."""
    base = presets.get("weight")
    p = replace(base, sigma_c2c=max(base.sigma_c2c, 0.1), read_noise=0.0)
    amps = np.full(30, p.op.v_pulse_up)
    bare = wf.pulse_train(amps, p.op.t_pulse, gap=p.op.t_gap)
    with_reads = wf.pulse_train(amps, p.op.t_pulse, gap=p.op.t_gap, v_read_g=p.op.v_read_g,
                                t_read=p.op.t_read, v_read_d=p.op.v_read_d)
    a = simulate(p, bare, n_devices=8, seed=11)
    b = simulate(p, bare, n_devices=8, seed=11)
    c = simulate(p, with_reads, n_devices=8, seed=11)
    assert np.array_equal(a.state, b.state)
    assert np.array_equal(a.state, c.state)
    assert not np.array_equal(a.state, simulate(p, bare, n_devices=8, seed=12).state)

