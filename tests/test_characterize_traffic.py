"""Characterization under training-like traffic: random-sign pulses give the LUT's ΔG statistics."""
from __future__ import annotations

import numpy as np
import pytest

from fefet_spice import presets
from fefet_spice.characterize import CharConfig, characterize
from fefet_spice.characterize.jobs import TRAFFIC_SEGMENT, make_jobs, result_ok, run_job, traffic_plan
from fefet_spice.errors import LimitError, ParamError
from fefet_spice.lut.core import PulseKind, from_neurosim, with_step_samples


def test_traffic_plan_is_a_bounded_walk_with_the_asked_reversals():
    rng = np.random.default_rng(3)
    sign, smp = traffic_plan(16, 20_000, 0.65, rng)
    assert set(np.unique(sign)) == {-1, 1} and int(smp.sum()) == 20_000
    walk = np.cumsum(sign)
    assert walk.min() >= 0 and walk.max() <= 16  # never leaves the sweep's range of pulse counts
    rev = (sign[1:] != sign[:-1])[smp[1:]]
    assert 0.64 < rev.mean() < 0.70  # 0.65 plus the forced reversals at the two ends
    assert (~smp).sum() > 0 and (~smp).sum() < 16 * (20_000 // TRAFFIC_SEGMENT + 1)
    again = traffic_plan(16, 20_000, 0.65, np.random.default_rng(3))
    assert np.array_equal(again[0], sign) and np.array_equal(again[1], smp)
    mono, _ = traffic_plan(16, 2_000, 0.0, np.random.default_rng(0))
    assert (mono[1:] != mono[:-1]).mean() < 0.1  # p 0: reversals only at the ends and the moves


def test_step_samples_replace_the_bins_they_fill_and_keep_the_rest():
    lut = from_neurosim(1e-6, 5e-6, 5.0, 5.0, 32, n_g=16)
    up = lut.kinds[lut.kind_index(+1)]
    g0 = np.concatenate([np.full(20, lut.g_grid[3]), np.full(3, lut.g_grid[9])])  # bin 9: too few
    dg = np.concatenate([np.full(20, 7e-8), np.full(3, 9e-8)])
    out, taken = with_step_samples(lut, {up: (g0, dg)}, min_count=8)
    i = lut.kind_index(+1)
    assert taken == {up.label: 1}
    assert out.dg_mean[i, 3] == pytest.approx(7e-8) and out.dg_std[i, 3] == pytest.approx(0.0, abs=1e-20)
    assert np.allclose(out.dg_quantiles[i][:, 3], 7e-8)
    keep = np.arange(16) != 3
    assert np.array_equal(out.dg_mean[i, keep], lut.dg_mean[i, keep])
    assert np.array_equal(out.dg_mean[1 - i], lut.dg_mean[1 - i]) and out.meta is not lut.meta
    with pytest.raises(ValueError, match="no such pulse kind"):
        with_step_samples(lut, {PulseKind(+1, 9.0, 1e-6): (g0, dg)})
    same, none = with_step_samples(lut, {up: (np.zeros(0), np.zeros(0))})
    assert none == {up.label: 0} and np.array_equal(same.dg_mean, lut.dg_mean)
    with pytest.raises(ParamError, match="can never reach a bin"):  # refused before any work, not mislabelled
        _config(n_devices=1, n_traffic=1)
    with pytest.raises(ParamError, match="reached no bin"):  # enough pulses in principle, none where needed
        characterize(_config(n_devices=2, n_traffic=4), executor="serial")


def _config(**kw):
    base = dict(weight=presets.get("weight"), sparsity=presets.get("sparsity"), n_devices=4, n_pulses=24,
                n_probe=4, seed=5)
    return CharConfig(**{**base, **kw})


def test_traffic_changes_the_steps_not_the_sweeps():
    plain = characterize(_config(), executor="serial")
    busy = characterize(_config(n_traffic=400), executor="serial")
    assert np.array_equal(plain.lut.trajectories, busy.lut.trajectories, equal_nan=True)  # same draws first
    assert plain.lut.meta["levels"] == busy.lut.meta["levels"]
    src = busy.lut.meta["dg_source"]
    assert src["from"] == "traffic" and src["n_traffic"] == 400 and 0.6 < src["reversal_fraction"] < 0.72
    assert "dg_source" not in plain.lut.meta
    i = busy.lut.kind_index(+1)
    span = busy.lut.g_max - busy.lut.g_min
    # the compact model's domains remember the last direction: after a reversal the steps are larger
    # than along a monotone sweep (bench/replay_gap.py), so the traffic's mean up step is larger mid-range
    mid = slice(16, 48)
    assert busy.lut.dg_mean[i, mid].mean() > plain.lut.dg_mean[i, mid].mean() + 0.005 * span
    assert sum(src["bins_from_traffic"].values()) > 64


def test_a_traffic_result_is_checked_before_a_cache_takes_it():
    cfg = _config(n_devices=1, n_traffic=70)
    res = run_job(make_jobs(cfg)[0])
    assert result_ok(res, cfg) and not result_ok(res, _config(n_devices=1))
    assert len(res["traffic"]) == len(res["traffic_sign"]) + 1 and res["traffic_sampled"].sum() == 70
    for key, bad in (("traffic_sign", res["traffic_sign"] * 2), ("traffic_sampled", ~res["traffic_sampled"]),
                     ("traffic", res["traffic"][:-1])):
        assert not result_ok({**res, key: bad}, cfg), key


@pytest.mark.parametrize("kw, err", [({"n_traffic": -1}, LimitError), ({"n_traffic": 10**6}, LimitError),
                                     ({"n_traffic": 2.5}, LimitError), ({"n_traffic": True}, LimitError),
                                     ({"n_traffic": 90_000, "n_pulses": 1000}, LimitError),  # the moves
                                     ({"p_reverse": 1.5}, ParamError), ({"p_reverse": float("nan")}, ParamError)])
def test_bad_traffic_options_are_named(kw, err):
    with pytest.raises(err, match=next(iter(kw))):
        _config(**kw)


def test_a_traffic_run_resumes_from_its_cache(tmp_path):
    first = characterize(_config(n_devices=2, n_traffic=400), executor="serial", cache=tmp_path)
    assert len(list(tmp_path.glob("job_*.npz"))) == 2
    (tmp_path / "job_00001.npz").unlink()  # as if interrupted after the first job
    ran = []
    again = characterize(_config(n_devices=2, n_traffic=400), executor="serial", cache=tmp_path,
                         progress=lambda n, total: ran.append(n))
    assert ran == [2]  # only the missing job ran: the cached traffic result was taken
    assert np.array_equal(first.lut.dg_mean, again.lut.dg_mean) and first.lut.meta == again.lut.meta
    with pytest.raises(Exception, match="another run"):  # other traffic: another fingerprint
        characterize(_config(n_devices=2, n_traffic=401), executor="serial", cache=tmp_path)


def test_p_reverse_without_traffic_is_refused():
    from fefet_spice import api

    with pytest.raises(ParamError, match="needs n_traffic"):
        api.characterize(presets.get("weight"), presets.get("sparsity"), n_devices=1, p_reverse=0.9)


def test_numpy_integers_and_the_cli_with_a_single_traffic_pulse(tmp_path):
    assert _config(n_traffic=np.int64(3)).n_traffic == 3
    from fefet_spice.cli import main

    # one traffic pulse on one device fills no bin: a table labelled traffic would be the sweeps', so the
    # run fails loudly (before, it wrote such a LUT with exit 0) and writes no LUT
    out = tmp_path / "one"
    assert main(["characterize", "--n-devices", "1", "--n-pulses", "1", "--n-probe", "1", "--seed", "1",
                 "--traffic", "1", "--no-plots", "-o", str(out)]) == 2
    assert not (out / "lut.json").exists()


def test_the_cli_counts_the_traffic_moves_in_its_work_limit(tmp_path, capsys):
    from fefet_spice.cli import main

    assert main(["characterize", "--n-devices", "1000", "--n-pulses", "640", "--traffic", "6400",
                 "-o", str(tmp_path / "x")]) == 2
    assert "--traffic" in capsys.readouterr().err and not (tmp_path / "x").exists()
