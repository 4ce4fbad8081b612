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



def _reference_run(p, w, n_devices, seed, s_init):
    """The generic per-segment path: DomainEngine.apply on s itself, jitter drawn as simulate draws it."""
    from fefet_spice.model.simulate import DomainEngine, DomainState, _jitter

    rng = np.random.default_rng(seed)
    devices = sample_devices(p, n_devices, rng)
    engine = DomainEngine(p.ferro, devices)
    state = DomainState(np.broadcast_to(np.asarray(s_init, dtype=float), devices.ea_up.shape))
    drive = w.vg - 0.5 * np.where(np.isnan(w.vd), 0.1, w.vd)
    active = [engine.active(v, t) for v, t in zip(drive, w.dt)]
    jitters = _jitter(rng, p.sigma_c2c, n_devices, sum(active))
    p_norm = []
    for k, act in enumerate(active):
        if act:
            engine.apply(state, drive[k], w.dt[k], next(jitters))
        p_norm.append(state.s.mean(axis=-1))
    return np.array(p_norm).T, state.s


def test_offset_form_update_equals_generic_domain_update():
    """simulate's beta = 1 loop (states held as s - d) equals DomainEngine.apply on s, with and without
    jitter, across polarity changes and from a mixed initial state."""
    base = presets.get("weight")
    amps = np.array([base.op.v_pulse_up] * 5 + [base.op.v_pulse_dn] * 3 + [base.op.v_pulse_up, base.op.v_pulse_dn] * 4)
    w = wf.pulse_train(amps, base.op.t_pulse, gap=base.op.t_gap, v_read_g=base.op.v_read_g, t_read=base.op.t_read,
                       v_read_d=base.op.v_read_d)
    s_init = np.random.default_rng(2).uniform(-1.0, 1.0, (16, base.ferro.n_domains))
    for p in (presets.nominal(base), replace(base, sigma_c2c=max(base.sigma_c2c, 0.1), read_noise=0.0)):
        assert p.ferro.beta == 1.0
        res = simulate(p, w, n_devices=16, seed=4, s_init=s_init)
        p_ref, s_ref = _reference_run(p, w, 16, 4, s_init)
        assert np.max(np.abs(res.state - s_ref)) < 1e-12
        assert np.max(np.abs(res.p_norm - p_ref)) < 1e-12
        assert np.ptp(res.p_norm) > 0.2  # the pulses moved the states


def test_read_noise_stream_does_not_depend_on_the_block_size(monkeypatch):
    """Read noise is drawn read by read in segment order: the block size is an implementation detail."""
    import fefet_spice.model.reads as sim
    p = presets.get("weight")
    assert p.read_noise > 0
    w = wf.potentiation_depression(p, 20, 20)
    a = simulate(p, w, n_devices=300, seed=8)
    monkeypatch.setattr(sim, "READ_BLOCK", 3)
    b = simulate(p, w, n_devices=300, seed=8)
    assert np.array_equal(a.id, b.id) and np.array_equal(a.g_after_pulse, b.g_after_pulse)
    quiet = simulate(replace(p, read_noise=0.0), w, n_devices=300, seed=8)
    reads = w.mask("read")
    noise = (a.id - quiet.id)[:, reads] / (p.read_noise * p.op.v_read_d)
    assert abs(noise.std() - 1.0) < 0.02 and np.all(a.id[:, ~reads] == quiet.id[:, ~reads])


def test_pulse_train_reads_go_through_the_table(monkeypatch):
    """A read of every device after every pulse is evaluated through the table, block by block."""
    import fefet_spice.model.reads as sim
    calls = []

    class Spy(sim.ReadTable):
        def evaluate(self, vt, out, index, work):
            calls.append(vt.shape)
            return super().evaluate(vt, out, index, work)

    monkeypatch.setattr(sim, "ReadTable", Spy)
    p = presets.nominal(presets.get("weight"))
    w = wf.pulse_train(np.full(40, p.op.v_pulse_up), p.op.t_pulse, gap=p.op.t_gap, v_read_g=p.op.v_read_g,
                       t_read=p.op.t_read, v_read_d=p.op.v_read_d)
    res = simulate(p, w, n_devices=2000, seed=1)
    assert sum(shape[0] for shape in calls) == 40 and all(shape[1] == 2000 for shape in calls)
    direct = drain_current(p.channel, p.op.v_read_g, p.op.v_read_d, threshold_voltage(p, res.p_norm[:, w.mask("read")]))
    assert np.max(np.abs(res.g_after_pulse * p.op.v_read_d / direct - 1.0)) < 1e-8
