"""Recording a training run's array operations and replaying them on arrays (issue 18)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fefet_spice.array import FastArray, row_column_vau
from fefet_spice.array import record as rec
from fefet_spice.array.replay import ConductanceMap, layout, replay, reset_error, run_array_fast
from fefet_spice.errors import DataError
from fefet_spice.io import array_record
from fefet_spice.lut.core import apply_pulses
from fefet_spice.spice.array import ArrayConfig, ArrayState, weight_conductance
from fefet_spice.train import msnet

CFG = ArrayConfig(bins_weight=8, bins_sparsity=1)


@pytest.fixture(scope="module")
def lut():
    from fefet_spice import presets
    from fefet_spice.characterize import lut_from_model

    return lut_from_model(presets.get("weight"), n_devices=8)


@pytest.fixture(scope="module")
def run(lut):
    """A short digits run (pretraining, programming, pruning at epochs 11 and 12, 3 on-chip epochs),
    recorded. The second pruning comes after updates, so Adam's step count (the entries' ``step``)
    restarts there (``adam_reset="events"``) and repeats: the record must count updates in order."""
    from fefet_spice.train import Schedule, data, trainer

    sch = replace(Schedule(), epochs=13, pretrain_passes=1, write_noise=False, accumulate="lines",
                  prune_epochs=(11, 12, 23, 26))
    assert sch.adam_reset == "events"
    ds = data.load("digits", seed=0)
    entries: list = []
    res = trainer.train(ds, lut, "vau", sch, seed=2, recorder=entries)
    plain = trainer.train(ds, lut, "vau", sch, seed=2)
    return res, plain, entries


def test_recorder_off_and_on_give_the_same_training(run):
    res, plain, entries = run
    strip = [{k: v for k, v in e.items() if k != "wall_time_s"} for e in (res, plain)]
    assert strip[0] == strip[1]
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "transfer" and kinds[-1] == "final" and kinds.count("prune") == 2
    assert kinds.count("update") == 3 * 3 * res["schedule"]["steps_per_epoch"]


def _lut_replay(record, lut):
    """Fire the recorded per-cell counts through the LUT (no write noise): must give the trainer's result."""
    out = []
    for l in range(record.n_layers):
        g = np.stack([record[f"l{l}_g0p"], record[f"l{l}_g0n"]])
        mask = np.ones(g.shape[1:], dtype=bool)
        up, down = lut.kind_index(+1), lut.kind_index(-1)
        for u in range(record.n_updates):
            for kind, e in record.events_before(u):
                after = record[f"l{l}_event_mask"][e]
                cut = np.where(mask & ~after, -record.meta["reset_pulses"], 0)
                g = apply_pulses(lut, g, np.stack([cut, cut]), None, noise=False, up=up, down=down)
                mask = after
            for step, axis in (("col", 0), ("row", 1)):
                p = np.expand_dims(record[f"l{l}_{step}_p"][u], axis)
                m = np.expand_dims(record[f"l{l}_{step}_m"][u], axis)
                plus, minus = record[f"l{l}_{step}_sides"][u]
                counts = np.stack([np.where(plus, p, 0), np.where(minus, -m, 0)])
                g = apply_pulses(lut, g, counts, None, noise=False, up=up, down=down)
        out.append(g)
    return out


def test_record_is_complete_and_survives_npz(run, lut, tmp_path):
    _, _, entries = run
    path = array_record.save(tmp_path / "run.npz", rec.pack(entries))
    record = array_record.load(path)
    assert record.n_updates == 15 and [record.shape(l) for l in range(3)] == list(msnet.SHAPES)
    assert record["event_kind"].tolist() == [0, 0] and record["event_at"].tolist() == [0, 5]
    assert record["update_epoch"].tolist() == [11] * 5 + [12] * 5 + [13] * 5
    for l, g in enumerate(_lut_replay(record, lut)):
        assert np.allclose(g[0], record[f"l{l}_gfp"], rtol=0, atol=1e-15)
        assert np.allclose(g[1], record[f"l{l}_gfn"], rtol=0, atol=1e-15)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.npz"):
        array_record.load(tmp_path / "bad.npz")


def test_msnet_maps_onto_four_64x64_arrays():
    tiles = layout(msnet.SHAPES)
    assert [(t.name, t.shape) for t in tiles] == [("conv1", (25, 8)), ("conv2.0", (64, 16)),
                                                  ("conv2.1", (36, 16)), ("fc", (32, 10))]


def _toy_record(g_min, g_max, m=3, n=2):
    """One layer, one update: columns (+2, -1) on G+, (+1, 0) on G-; rows +1 on G+, +2 on G- (weight
    direction), then the last row pruned at the end."""
    gp = np.full((m, n), g_min + 0.5 * (g_max - g_min))
    gn = np.full((m, n), g_min)
    gn[0, 1], gp[0, 1] = gp[0, 1], g_min          # one negative weight: its G- responds
    plus, minus = gp - gn >= 0, gp - gn <= 0
    ops = [("col", np.array([2, -1]), np.array([1, 0]), plus, minus),
           ("row", np.ones(m, int), np.full(m, 2), plus, minus)]
    after = np.ones((m, n), bool)
    after[-1] = False
    entries = [{"kind": "transfer", "gp": [gp], "gn": [gn], "mask": [np.ones((m, n), bool)], "g_min": g_min,
                "g_max": g_max, "scale": [1.0], "reset_pulses": 64},
               {"kind": "update", "epoch": 11, "step": 1, "layer": 0, "ops": ops},
               {"kind": "prune", "epoch": 12, "mask": [after]},
               {"kind": "final", "gp": [gp], "gn": [gn], "mask": [after]}]
    return rec.TrainRecord(rec.pack(entries)), plus, minus


def test_pack_counts_updates_in_order_not_by_step():
    """Two updates with the same ``step`` (Adam's count restarts at an event) are two updates; a layer
    missing from an update or a fire out of order is an error."""
    m, n = 2, 2
    g = [np.full((m, n), 1e-6)]
    sides = (np.ones((m, n), bool), np.zeros((m, n), bool))
    ops = [("col", np.array([1, 0]), np.array([0, 0]), *sides), ("row", np.array([0, 2]), np.array([0, 0]), *sides)]

    def entries(updates):
        return [{"kind": "transfer", "gp": g * 2, "gn": g * 2, "mask": [np.ones((m, n), bool)] * 2, "g_min": 0.0,
                 "g_max": 1.0, "scale": [1.0, 1.0], "reset_pulses": 64}, *updates,
                {"kind": "final", "gp": g * 2, "gn": g * 2, "mask": [np.ones((m, n), bool)] * 2}]

    ups = [{"kind": "update", "epoch": ep, "step": 1, "layer": l, "ops": ops} for ep in (11, 12) for l in (0, 1)]
    out = rec.pack(entries(ups[:2] + [{"kind": "prune", "epoch": 12, "mask": [np.ones((m, n), bool)] * 2}] + ups[2:]))
    assert out["update_epoch"].tolist() == [11, 12] and out["event_at"].tolist() == [1]
    assert out["l1_row_p"].tolist() == [[0, 2], [0, 2]]
    with pytest.raises(ValueError, match="one entry per layer"):
        rec.pack(entries(ups[:3]))
    with pytest.raises(ValueError, match="column fire then one row fire"):
        rec.pack(entries([ups[0], {**ups[1], "ops": ops[::-1]}]))


def test_fast_replay_equals_the_array_fast_path(weight, sparsity, lut):
    record, plus, minus = _toy_record(lut.g_min, lut.g_max)
    out = replay(record, weight, sparsity, run_array_fast, CFG)
    gmap = ConductanceMap(weight, lut.g_min, lut.g_max)
    s0 = gmap.to_state(np.concatenate([record["l0_g0p"], record["l0_g0n"]], axis=1))
    op = weight.op
    steps = [(0, [0, 0, 0], [2, -1], plus), (1, [0, 0, 0], [-1, 0], minus),     # G+ / G- halves' own lines
             (0, [1, 1, 1], [0, 0], plus), (1, [-2, -2, -2], [0, 0], minus)]
    s = np.repeat(s0[..., None], 8, axis=-1)
    for half, r, c, gate in steps:
        cols = slice(2 * half, 2 * half + 2)
        fa = FastArray(weight, gate, n_domains=8, s_init=s[:, cols]).apply(
            row_column_vau(r, c, op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap))
        s[:, cols] = fa.state.s.reshape(s[:, cols].shape)
    s[-1] = -1.0                                   # pruned at the end: both cells to G_min
    assert np.array_equal(out.states[0].weight, s)
    g0 = weight_conductance(weight, ArrayState(s0[..., None], s0[..., None]))
    g1 = weight_conductance(weight, out.states[0])
    assert g1[0, 0] > g0[0, 0] and g1[1, 1] < g1[1, 0]        # G+ up by 2 + 1, then by -1 + 1
    assert g1[0, 3] < g0[0, 3]                                   # the G- of a negative weight: -(1 + 2) pulses
    assert np.array_equal(g1[:2, 2], g0[:2, 2])                  # idle G- cells of positive weights: untouched
    assert out.stats[0].operations == 4 and out.masks[0][-1].sum() == 0


def test_pruning_by_state_matches_the_reset_pulses(weight):
    assert reset_error(weight, 64) < 0.01


def test_cosim_replay_runs_through_ngspice(weight, sparsity, lut):
    from fefet_spice.spice.cosim import run_array_cosim

    record, _, _ = _toy_record(lut.g_min, lut.g_max, m=2, n=2)
    cfg = replace(CFG, r_line=50.0, bins_weight=4)
    co = replay(record, weight, sparsity, run_array_cosim, cfg, backend="subprocess")
    fast = replay(record, weight, sparsity, run_array_fast, cfg)
    span = weight_conductance(weight, ArrayState(np.array([[[-1.0]], [[1.0]]]), np.ones((2, 1, 1))))
    g_co, g_fast = weight_conductance(weight, co.states[0]), weight_conductance(weight, fast.states[0])
    g0 = fast.gmap.to_state(np.concatenate([record["l0_g0p"], record["l0_g0n"]], axis=1))
    assert np.abs(g_fast[0] - weight_conductance(weight, ArrayState(g0[..., None], g0[..., None]))[0]).max() > 0
    assert np.abs(g_co - g_fast).max() < 0.03 * float(span[1, 0] - span[0, 0])


def test_an_off_sparsity_fefet_does_not_stop_depression_pulses(weight, sparsity):
    """Why the G+ and G- halves need their own bit-line segments (fefet_spice.array.replay): gating a
    half off while the shared bit line carries the other half's depression pulses disturbs it."""
    from fefet_spice.spice.cosim import run_array_cosim

    cfg = replace(CFG, bins_weight=4)
    state = ArrayState(np.full((1, 1, 4), 0.3), -np.ones((1, 1, 1)))
    op = weight.op
    g0 = weight_conductance(weight, state)[0, 0]
    for r, leaks in ((2, False), (-2, True)):
        sched = row_column_vau([r], [0], op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
        g_co = weight_conductance(weight, run_array_cosim(weight, sparsity, state, sched, cfg, backend="subprocess").state)
        g_fast = weight_conductance(weight, run_array_fast(weight, sparsity, state, sched, cfg).state)
        assert g_fast[0, 0] == g0
        assert (g0 - g_co[0, 0] > 0.05 * g0) == leaks


def test_quasistatic_replay_agrees_with_the_fast_path(weight, sparsity, lut):
    qs = pytest.importorskip("fefet_spice.spice.quasistatic", reason="the quasi-static mode (issue 18) is absent")
    record, _, _ = _toy_record(lut.g_min, lut.g_max, m=2, n=2)
    cfg = replace(CFG, r_line=50.0, bins_weight=4)
    out = replay(record, weight, sparsity, qs.run_array_quasistatic, cfg)
    fast = replay(record, weight, sparsity, run_array_fast, cfg)
    span = weight_conductance(weight, ArrayState(np.array([[[-1.0]], [[1.0]]]), np.ones((2, 1, 1))))
    diff = np.abs(weight_conductance(weight, out.states[0]) - weight_conductance(weight, fast.states[0]))
    assert diff.max() < 0.03 * float(span[1, 0] - span[0, 0])


def test_regrown_pairs_restart_from_g_min(weight, sparsity, lut):
    record, _, _ = _toy_record(lut.g_min, lut.g_max)
    arrays = dict(record.arrays)
    arrays["event_kind"] = np.array([0, 1])
    arrays["event_at"] = np.array([1, 1])
    arrays["event_epoch"] = np.array([12, 13])
    arrays["l0_event_mask"] = np.stack([record["l0_event_mask"][0], np.ones((3, 2), bool)])
    out = replay(rec.TrainRecord(arrays), weight, sparsity, run_array_fast, CFG)
    assert out.masks[0].all() and np.all(out.states[0].sparsity > 0)
    assert np.all(out.states[0].weight[-1] == -1.0) and np.all(out.states[0].weight[0, 0] > -1.0)
