"""Monte Carlo characterization: executors agree, runs resume, the weight preset's figures of merit."""
from __future__ import annotations


import numpy as np
import pytest

from fefet_spice import presets
from fefet_spice.characterize import CharConfig, characterize
from fefet_spice.errors import DataError, ParamError
from fefet_spice.lut.native import load_lut, save_lut


def _config(**kw):
    base = dict(weight=presets.get("weight"), sparsity=presets.get("sparsity"), n_devices=6, n_pulses=24,
                n_probe=4, seed=11)
    base.update(kw)
    return CharConfig(**base)


def _same(a, b):
    for name in ("g_grid", "dg_mean", "dg_std", "dg_quantiles", "trajectories"):
        assert np.array_equal(getattr(a.lut, name), getattr(b.lut, name), equal_nan=True), name
    assert a.lut.meta == b.lut.meta


@pytest.fixture(scope="module")
def serial():
    return characterize(_config(), executor="serial")


def test_pool_gives_the_same_lut_as_serial(serial):
    _same(characterize(_config(), executor="pool", workers=2), serial)


def test_dask_gives_the_same_lut_as_pool_and_serial(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        res = characterize(_config(), executor="dask", scheduler=cluster.scheduler_address)
    _same(res, serial)


def test_other_seed_changes_the_lut(serial):
    other = characterize(_config(seed=12), executor="serial")
    assert not np.array_equal(other.traj, serial.traj)


def test_interrupted_run_resumes_from_finished_jobs(tmp_path, serial):
    cache = tmp_path / "cache"
    done = []

    def stop_after_three(n, total):
        done.append(n)
        if n == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        characterize(_config(), executor="serial", cache=cache, progress=stop_after_three)
    assert len(list(cache.glob("job_*.npz"))) == 3
    calls = []
    resumed = characterize(_config(), executor="serial", cache=cache, progress=lambda n, t: calls.append(n))
    assert calls == [4, 5, 6]  # only the three missing jobs ran
    _same(resumed, serial)
    with pytest.raises(DataError, match="run.json: the cache belongs to another run"):
        characterize(_config(seed=99), executor="serial", cache=cache)


def test_weight_preset_levels_and_masking(tmp_path):
    res = characterize(_config(n_devices=8, n_pulses=64, n_probe=8), executor="serial")
    lut = res.lut
    assert lut.meta["levels"]["up"] >= 16 and lut.meta["levels"]["down"] >= 16
    assert lut.meta["masked_ratio"] < 0.01
    assert lut.meta["disturb_ratio"] < 0.01
    # G_min to G_max and back: the up branch rises, the down branch returns near its start
    up, down = lut.trajectories[0].mean(0), lut.trajectories[1].mean(0)
    assert up[-1] - up[0] > 0.8 * (lut.g_max - lut.g_min) and down[-1] < up[0] + 0.1 * (lut.g_max - lut.g_min)
    assert np.all(lut.dg_mean[0] >= 0) and np.all(lut.dg_mean[1] <= 0)
    back = load_lut(save_lut(tmp_path / "lut", lut))
    assert back.meta["provenance"]["seed"] == 11 and len(back.meta["provenance"]["params_sha256"]) == 64


def test_topology_a_does_not_mask_in_the_numpy_model():
    res = characterize(_config(topology="A", n_devices=2), executor="serial")
    assert res.lut.meta["masked_ratio"] > 0.5


def test_multiple_pulse_kinds():
    res = characterize(_config(pulses=((3.9, -3.9, 1e-6), (4.1, -4.1, 1e-6)), n_devices=2), executor="serial")
    assert [k.polarity for k in res.lut.kinds] == [1, -1, 1, -1]
    assert res.lut.dg_mean[2].max() > res.lut.dg_mean[0].max()  # larger amplitude, larger steps


def test_bad_options_are_named():
    with pytest.raises(ParamError, match="backend"):
        _config(backend="spectre")
    with pytest.raises(ParamError, match=r"pulses\[0\]"):
        _config(pulses=((-1.0, -3.0, 1e-6),))
    with pytest.raises(ParamError, match="scheduler"):
        characterize(_config(n_devices=2), executor="dask")


def test_masking_model_depends_on_the_off_conductance():
    """A leaky sparsity FeFET (G_off = 1 uS: RC far below the pulse width) does not mask."""
    from dataclasses import replace

    from fefet_spice.characterize import cell

    sp = presets.get("sparsity")
    weight = presets.get("weight")
    tau = cell.gate_capacitance(weight) / cell.off_conductance(sp)
    assert tau > 1e4 * weight.op.t_pulse  # the preset: the floating gate barely charges
    leaky = replace(sp, channel=replace(sp.channel, g_floor=1e-6))
    assert cell.gate_capacitance(weight) / cell.off_conductance(leaky) < 0.1 * weight.op.t_pulse
    res = characterize(_config(sparsity=leaky, n_devices=2), executor="serial")
    assert res.lut.meta["masked_ratio"] > 0.3


def test_half_selected_with_no_inhibit_bias_is_disturbed():
    res = characterize(_config(v_comp=0.0, n_devices=2), executor="serial")
    assert res.lut.meta["disturb_ratio"] > 0.3  # without V_comp the "half-selected" cell is fully written
