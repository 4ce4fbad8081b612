"""Tiki-Taka transfer between arrays (:mod:`fefet_spice.train.tikitaka`): updates go into A, rows of A
move into C through the LUT, pruned cells stay untouched, every pulse and read counted."""
from dataclasses import replace

import numpy as np
import pytest

from fefet_spice.errors import ParamError
from fefet_spice.lut.core import SynapseLUT
from fefet_spice.train import schedule
from fefet_spice.train.accumulate import WeightRegisters
from fefet_spice.train.device import DeviceLayer
from fefet_spice.train.tikitaka import TikiTaka


def _ideal_lut() -> SynapseLUT:
    """The shipped ideal sweep LUT: linear, symmetric, noise-free."""
    from pathlib import Path

    from fefet_spice.lut.native import load_lut

    return load_lut(Path(__file__).resolve().parents[1] / "luts" / "devices" / "ideal")


@pytest.fixture(scope="module")
def lut():
    from fefet_spice import presets
    from fefet_spice.characterize import lut_from_model

    return lut_from_model(presets.get("weight"))


def _layer(lut, shape, seed, w_max=1.0):
    rng = np.random.default_rng(seed)
    c = DeviceLayer(lut, shape, w_max)
    c.program(rng.uniform(-0.5, 0.5, shape), rng)
    c.mask[rng.random(shape) < 0.4] = False
    return c, rng


def test_transfer_moves_c_spares_pruned_cells_and_counts(lut):
    sch = replace(schedule.Schedule(), tiki_taka=True, tt_rows=0.5)
    c, rng = _layer(lut, (10, 4), 0)
    tt = TikiTaka([c], lut, sch)
    assert np.array_equal(tt.a[0].mask, c.mask) and np.all(tt.a[0].weights() == 0)
    pruned = ~c.mask
    g_c, g_a = (c.gp.copy(), c.gn.copy()), (tt.a[0].gp.copy(), tt.a[0].gn.copy())
    want = np.full((10, 4), 3.0 * c.pulse_w)           # three pulses up on every weight
    regs = WeightRegisters((10, 4), sch.max_pulses)
    w0 = c.weights().copy()
    st = tt.update(0, c, want, "vau", rng, acc=regs, split=True)
    # the update went into A; the transfer (every update) moved rows 0..4 of C, not rows 5..9
    assert tt.stats["a_update_pulses"] > 0 and tt.stats["transfer_pulses"] > 0
    moved = np.abs(c.weights() - w0) > 1e-12
    assert moved[:5].any() and not moved[5:].any()
    assert np.mean(c.weights()[:5][c.mask[:5]] - w0[:5][c.mask[:5]]) > 0
    assert tt.stats["reads"] == 5 and tt.stats["weights_read"] == int(c.mask[:5].sum())
    s = tt.stats
    assert st["pulses"] == s["a_update_pulses"] + s["transfer_pulses"] + s["decay_pulses"]
    assert st["operations"] >= s["row_writes"] > 0
    # the decay took the read rows of A back towards zero; the unread rows keep their update
    a = tt.a[0].weights()
    assert np.abs(a[:5]).mean() < 0.5 * np.abs(a[5:][c.mask[5:]]).mean()
    # pruned cells of both arrays never received a pulse
    for (gp, gn), layer in ((g_c, c), (g_a, tt.a[0])):
        assert np.array_equal(layer.gp[pruned], gp[pruned]) and np.array_equal(layer.gn[pruned], gn[pruned])
    tt.update(0, c, want, "vau", rng, acc=regs, split=True)   # next transfer: rows 5..9
    assert tt.row[0] == 0 and tt.stats["reads"] == 10 and tt.stats["transfers"] == 2


def test_masks_follow_c_and_regrown_pairs_reset(lut):
    sch = replace(schedule.Schedule(), tiki_taka=True)
    c, rng = _layer(lut, (6, 5), 1)
    tt = TikiTaka([c], lut, sch)
    tt.a[0].apply(np.where(c.mask, 3, 0), rng)         # A holds something everywhere active
    cut = c.mask.copy()
    cut[:, 1:] = False
    c.prune(cut, rng)
    assert tt.sync_masks([c], rng) == 0 and not tt.a[0].mask[:, 0].any()
    c.regrow(cut)
    pulses = tt.sync_masks([c], rng)
    assert pulses == 2 * sch.reset_pulses * int(cut.sum()) and tt.stats["a_reset_pulses"] == pulses
    assert np.array_equal(tt.a[0].mask, c.mask)
    assert np.allclose(tt.a[0].gp[cut], lut.g_min, atol=0.05 * tt.a[0].g_level)


def test_tiki_taka_trains_on_an_ideal_device_and_is_reproducible():
    from fefet_spice.train import data, trainer

    sch = schedule.for_protocol("paper", pretrain_epochs=4, pretrain_passes=2, epochs=12,
                                prune_epochs=(5, 6, 7, 8), overprune_epoch=9, regrow_epoch=10,
                                tiki_taka=True, read_noise=False, write_noise=False)
    ds = data.load("digits", seed=0)
    res = trainer.train(ds, _ideal_lut(), "vau", sch, seed=3)
    tt = res["tiki_taka"]
    assert tt["transfers"] == 8 * 5 * 3 and tt["transfer_pulses"] > 0 and tt["a_update_pulses"] > 0
    assert res["update_pulses"] == tt["a_update_pulses"] + tt["transfer_pulses"] + tt["decay_pulses"]
    assert res["prune_reset_pulses"] >= tt["a_reset_pulses"] > 0
    # the transferred updates repair what over-pruning took
    assert res["final_accuracy"] > res["accuracy_update_off"] + 0.05 and res["final_accuracy"] > 0.8
    again = trainer.train(ds, _ideal_lut(), "vau", sch, seed=3, update_off=False)
    assert again["final_accuracy"] == res["final_accuracy"] and again["tiki_taka"] == tt


def test_tiki_taka_settings_are_checked():
    with pytest.raises(ParamError, match="tt_rows"):
        schedule.from_dict({"tiki_taka": True, "tt_rows": 0})
    with pytest.raises(ParamError, match="tt_every"):
        schedule.from_dict({"tt_every": 0})
    assert schedule.Schedule().tiki_taka is False
