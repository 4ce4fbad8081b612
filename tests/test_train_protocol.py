"""Training protocols (paper / software-pruned / scratch), digital accumulation of sub-pulse updates,
and what every run reports about the array (update switched off, on-chip contribution, pulses)."""
import json
from dataclasses import replace

import numpy as np
import pytest

from fefet_spice.errors import ParamError
from fefet_spice.train import schedule


@pytest.fixture(scope="module")
def lut():
    from fefet_spice import presets
    from fefet_spice.characterize import lut_from_model

    return lut_from_model(presets.get("weight"))


def _small(protocol="paper", **over):
    """Reduced schedule: 4 x 2 pretraining passes, pruning at 5..8, over-pruning at 9, regrowth at 11."""
    return schedule.for_protocol(protocol, **{"pretrain_epochs": 4, "pretrain_passes": 2, "epochs": 14,
                                              "prune_epochs": (5, 6, 7, 8), "overprune_epoch": 9,
                                              "regrow_epoch": 11, **over})


def test_protocol_defaults_and_checks():
    sch = schedule.Schedule()
    assert sch.protocol == "paper" and sch.prune_aware_passes == 0
    assert (sch.overprune_epoch, sch.regrow_epoch) == (29, 38) and sch.accumulate == "weight-device"
    soft = schedule.for_protocol("software-pruned")
    assert soft.prune_aware_passes == 40 and soft.overprune_epoch == 0 and soft.regrow_epoch == 0
    scratch = schedule.for_protocol("scratch")
    assert scratch.first_onchip_epoch == 1 and sch.first_onchip_epoch == sch.pretrain_epochs + 1
    assert scratch.onchip_lr(1) == pytest.approx(scratch.lr)
    with pytest.raises(ParamError, match="prune_aware_passes 40 is software pruning"):
        schedule.from_dict({"prune_aware_passes": 40})
    with pytest.raises(ParamError, match="needs prune_aware_passes"):
        schedule.from_dict({"protocol": "software-pruned"})
    with pytest.raises(ParamError, match="protocol must be one of"):
        schedule.from_dict({"protocol": "hybrid"})
    with pytest.raises(ParamError, match="accumulate must be one of"):
        schedule.from_dict({"accumulate": "row"})
    with pytest.raises(ParamError, match="needs vau_split"):
        schedule.from_dict({"vau_split": False})
    assert schedule.from_dict({"vau_split": False, "accumulate": "none"}).vau_split is False
    assert schedule.from_dict(soft.to_dict()) == soft


def test_weight_registers_fire_sub_pulse_updates_and_spare_pruned_cells(lut):
    from fefet_spice.train.accumulate import LineRegisters, WeightRegisters
    from fefet_spice.train.device import DeviceLayer
    from fefet_spice.train.rules import update_layer

    rng = np.random.default_rng(0)
    layer = DeviceLayer(lut, (10, 4), 1.0, write_noise=False, read_noise=False)
    layer.program(rng.uniform(-0.6, 0.6, (10, 4)), rng)
    layer.mask[rng.random((10, 4)) < 0.4] = False
    before = (layer.gp.copy(), layer.gn.copy())
    want = np.full((10, 4), 0.3) * layer.pulse_w          # a third of a pulse per update, additive
    # without registers a 0.3-pulse update never fires
    twin = DeviceLayer(lut, (10, 4), 1.0, write_noise=False, read_noise=False)
    twin.gp, twin.gn, twin.mask = layer.gp.copy(), layer.gn.copy(), layer.mask.copy()
    assert sum(update_layer(twin, want, "vau", rng, split=True)["pulses"] for _ in range(6)) == 0
    nominal = DeviceLayer(lut, (10, 4), 1.0, write_noise=False, read_noise=False)
    nominal.gp, nominal.gn, nominal.mask = layer.gp.copy(), layer.gn.copy(), layer.mask.copy()
    nregs = WeightRegisters((10, 4), 8, device_aware=False)
    fired = sum(update_layer(nominal, want, "vau", rng, split=True, acc=nregs)["pulses"] for _ in range(6))
    # nominal: 6 x 0.3 = 1.8 pulses per active cell: one whole pulse each, the rest stays in the register
    assert fired == pytest.approx(int(layer.mask.sum()), rel=0.25)
    w0 = layer.weights()
    regs = WeightRegisters((10, 4), 8)
    stats = [update_layer(layer, want, "vau", rng, split=True, acc=regs) for _ in range(6)]
    fired = sum(s["pulses"] for s in stats)
    ops = sum(s["operations"] for s in stats)                # one cell write per firing pair;
    assert 0 < fired / 2 <= ops <= fired                      # a pair near zero fires both cells
    # device-aware: what the cells did (noise-free: the mean LUT path) plus what the register keeps is
    # the 1.8 pulses asked for, whatever a pulse does at each cell's state
    act = layer.mask
    done = (layer.weights() - w0) / layer.pulse_w
    assert np.allclose(done[act] + regs.a[act], 1.8, atol=0.01)           # (the ridge fit shrinks 0.3 a little)
    assert np.abs(regs.a[act]).max() < np.abs(done[act]).max()
    off = ~layer.mask
    assert np.array_equal(layer.gp[off], before[0][off]) and np.array_equal(layer.gn[off], before[1][off])
    assert np.all(regs.a[off] == 0) and np.all(np.abs(regs.a) < 1)
    lines = LineRegisters((10, 4), 8)
    assert lines.size == 2 * (10 + 4) and regs.size == 40
    pulses = sum(update_layer(twin, want, "vau", rng, split=True, acc=lines)["pulses"] for _ in range(6))
    assert pulses > 0
    with pytest.raises(ValueError, match="polarity-split"):
        update_layer(twin, want, "vau", rng, split=False, acc=lines)


def test_paper_protocol_reports_what_the_array_did(lut):
    from fefet_spice.train import data, trainer

    ds = data.load("digits", seed=0)
    res = trainer.train(ds, lut, "vau", _small(), seed=0)
    assert res["protocol"] == "paper" and res["software_pruning"] is False
    kinds = [(e["epoch"], e["kind"]) for e in res["accuracy_pruning_events"]]
    assert kinds == [(5, "prune"), (6, "prune"), (7, "prune"), (8, "prune"), (9, "overprune"), (11, "regrow")]
    for e in res["accuracy_pruning_events"]:
        assert 0 <= e["before"] <= 1 and 0 <= e["after"] <= 1
    # the dense network arrives on the array: nothing pruned before the first on-chip pruning step
    assert res["epochs"][3]["sparsity"] == 0 and res["final_sparsity"] == pytest.approx(0.742, abs=0.02)
    assert res["update_pulses"] > 0 and res["epochs_fired"] > 0
    assert res["update_pulses"] + res["prune_reset_pulses"] == res["pulses_total"]
    assert res["onchip_contribution"] == pytest.approx(res["final_accuracy"] - res["accuracy_update_off"])
    den = res["dense_software_accuracy"] - res["accuracy_update_off"]
    if den > 0:
        assert res["onchip_recovery"] == pytest.approx(res["onchip_contribution"] / den)
    # the on-chip update repairs what over-pruning took: it beats the same run with the update off
    assert res["onchip_contribution"] > 0.03
    assert res["final_accuracy"] > 0.8


def test_update_off_equals_a_run_that_never_fires(lut):
    """The cheap update-off companion run matches a full run whose step is too small to fire."""
    from fefet_spice.train import data, trainer

    ds = data.load("digits", seed=1)
    sch = _small(lr=1e-9, lr_final=1e-9)
    res = trainer.train(ds, lut, "vau", sch, seed=1)
    assert res["update_pulses"] == 0 and res["epochs_fired"] == 0
    assert res["final_accuracy"] == pytest.approx(res["accuracy_update_off"], abs=0.05)
    assert abs(res["onchip_contribution"]) <= 0.05


def test_scratch_protocol_trains_from_random_weights_on_the_array(lut):
    from fefet_spice.train import data, trainer

    ds = data.load("digits", seed=0)
    sch = _small("scratch")
    res = trainer.train(ds, lut, "vau", sch, seed=0, update_off=False)
    assert res["protocol"] == "scratch" and res["dense_software_accuracy"] is None
    assert res["pretrained_accuracy"] is None and res["onchip_recovery"] is None
    assert [e["epoch"] for e in res["epochs"]] == list(range(1, 15))
    assert all(e["phase"] == "onchip" for e in res["epochs"])
    assert res["final_accuracy"] > 0.5


def test_cli_protocol_software_pruned_is_labelled(tmp_path, capsys):
    from fefet_spice.cli import main

    out = tmp_path / "t.json"
    sched = tmp_path / "s.json"
    sched.write_text(json.dumps({"pretrain_epochs": 3, "pretrain_passes": 1, "prune_aware_passes": 4,
                                 "epochs": 8, "prune_epochs": [4, 5, 6, 7]}))
    assert main(["train", "--dataset", "digits", "--protocol", "software-pruned", "--schedule", str(sched),
                 "--json", str(out), "--quiet"]) == 0
    res = json.loads(out.read_text())
    assert res["protocol"] == "software-pruned" and res["software_pruning"] is True
    assert res["schedule"]["prune_aware_passes"] == 4 and res["schedule"]["overprune_epoch"] == 0
    assert "software pruning before transfer" in capsys.readouterr().out
    sched.write_text(json.dumps({"protocol": "scratch"}))
    assert main(["train", "--dataset", "digits", "--protocol", "paper", "--schedule", str(sched)]) == 2


def test_device_sweep_luts_and_table(tmp_path, lut):
    """The shipped sweep LUTs are what the documented command makes; properties order as designed; a
    tiny sweep writes its table, CSV and figure."""
    from pathlib import Path

    from fefet_spice.api.sweep import device_sweep, make_device_luts
    from fefet_spice.lut.native import load_lut
    from fefet_spice.train.sweep import device_properties, mean_pulse

    made = make_device_luts(tmp_path / "devices", Path(__file__).resolve().parents[1] / "luts" / "weight_ref")
    shipped = Path(__file__).resolve().parents[1] / "luts" / "devices"
    props = {}
    for f in made:
        new, old = load_lut(f), load_lut(shipped / f.name)
        # ideal and noisy follow luts/weight_ref: a regenerated reference moves them by its own drift
        np.testing.assert_allclose(new.dg_mean, old.dg_mean, rtol=0, atol=1e-5 * np.abs(old.dg_mean).max())
        props[f.name] = device_properties(new)
    ref_lut = load_lut(Path(__file__).resolve().parents[1] / "luts" / "weight_ref")
    ref = device_properties(ref_lut)
    assert props["ideal"]["noise"] == 0 and props["ideal"]["read_noise_levels"] == 0
    assert props["ideal"]["nonlinearity"] < 0.01 < ref["nonlinearity"] < props["nonlinear"]["nonlinearity"]
    assert props["nonlinear"]["levels"] > ref["levels"] / 2          # similar level count, not a coarse device
    assert props["noisy"]["noise"] > 3 * ref["noise"] and props["noisy"]["levels"] == ref["levels"]
    # one property at a time: ideal and noisy keep weight_ref's number of levels and G range
    for name in ("ideal", "noisy"):
        assert props[name]["levels"] == ref["levels"]
        assert props[name]["g_max"] == pytest.approx(ref["g_max"], rel=1e-9)
    assert mean_pulse(load_lut(shipped / "noisy")) == pytest.approx(mean_pulse(ref_lut), rel=1e-6)
    small = _small(epochs=9, overprune_epoch=0, regrow_epoch=0)
    res = device_sweep({"preset": lut, "ideal": load_lut(made[0])}, "digits", seeds=(0,), schedule=small)
    assert [r["lut"] for r in res.table] == ["preset", "ideal"] and len(res.runs) == 2
    # the step is in the first LUT's mean pulse (weight units) for both: the same weight change asked of each
    assert res.reference == "preset" and res.step_unit == pytest.approx(mean_pulse(lut))
    own = device_sweep({"ideal": load_lut(made[0])}, "digits", seeds=(0,), schedule=small, step="pulse")
    assert own.step_unit == 0 and own.reference is None and own.runs[0] != res.runs[1]
    with pytest.raises(ParamError, match="reference"):
        device_sweep({"ideal": load_lut(made[0])}, "digits", seeds=(0,), schedule=small, reference="nope")
    assert all(0 <= r["final_accuracy"] <= 1 and r["accuracy_update_off"] is not None for r in res.table)
    files = res.save(tmp_path / "s.json", tmp_path / "s.png", tmp_path / "s.csv")
    assert len(files) == 3 and (tmp_path / "s.csv").read_text().startswith("lut,levels,nonlinearity")
    # the figure's title names the data file, not the folders of the machine that made it
    from fefet_spice.api.sweep import _short_dataset
    assert _short_dataset("emnist-npz:/home/x/shared/data/e.npz") == "emnist-npz:e.npz"
    assert _short_dataset("digits") == "digits"


def test_cli_device_sweep_writes_table_and_refuses_foreign_folder(tmp_path, capsys):
    from pathlib import Path

    from fefet_spice.cli import main

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "sweep"
    assert main(["device-sweep", str(root / "luts" / "devices" / "ideal"), "--dataset", "digits", "--seeds", "0",
                 "--epochs", "11", "-o", str(out)]) == 0
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["protocol"] == "paper" and [r["lut"] for r in doc["table"]] == ["ideal"]
    assert doc["table"][0]["nonlinearity"] < 0.01 and 0 < doc["table"][0]["final_accuracy"] <= 1
    assert (out / "sweep.png").stat().st_size > 10_000 and (out / "sweep.csv").is_file()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "x.txt").write_text("x")
    assert main(["device-sweep", "--dataset", "digits", "--seeds", "0", "-o", str(foreign)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["device-sweep", "--dataset", "digits", "--seeds", "a", "-o", str(tmp_path / "n")]) == 2


def test_event_options_warm_restarts_adam_reset_global_overprune_minibatch(lut):
    """Warm restarts restart the cosine at every event; Adam reset, global over-pruning and on-chip
    mini-batches run on the array, keep the sparsity targets and leave pruned cells untouched."""
    from fefet_spice.train import data, trainer

    sch = schedule.Schedule(lr_restart_events=True)
    assert sch.onchip_lr(11) == pytest.approx(sch.lr) and sch.onchip_lr(29) == pytest.approx(sch.lr)
    assert sch.onchip_lr(28) == pytest.approx(sch.lr_final) and sch.onchip_lr(57) == pytest.approx(sch.lr_final)
    assert sch.lr_final < sch.onchip_lr(33) < sch.lr
    with pytest.raises(ParamError, match="adam_reset must be one of"):
        schedule.from_dict({"adam_reset": "always"})
    with pytest.raises(ParamError, match="onchip_batch must be >= 0"):
        schedule.from_dict({"onchip_batch": -1})
    ds = data.load("digits", seed=0)
    small = _small(adam_reset="events", overprune_split="global", onchip_batch=50)
    res = trainer.train(ds, lut, "vau", small, seed=0, update_off=False)
    ev = {e["kind"]: e for e in res["accuracy_pruning_events"]}
    over = [r for r in res["epochs"] if r["epoch"] == 9][0]["sparsity"]
    assert over == pytest.approx(0.742 + small.overprune_extra, abs=0.01)       # global: same total taken
    assert res["final_sparsity"] == pytest.approx(0.742, abs=0.02) and set(ev) == {"prune", "overprune", "regrow"}
    assert res["update_pulses"] > 0 and res["final_accuracy"] > 0.6
    full = trainer.train(ds, lut, "vau", _small(adam_reset="regrown"), seed=0, update_off=False)
    assert full["update_pulses"] > 0 and full["final_accuracy"] > 0.6


def test_device_sweep_on_a_dask_cluster_equals_serial(lut):
    """The same LUTs and seeds give the same runs, in the same order, on a Dask LocalCluster as in this
    process (each run seeded by its own seed only)."""
    distributed = pytest.importorskip("distributed")
    from fefet_spice.api.sweep import device_sweep

    sch = _small(pretrain_epochs=2, pretrain_passes=1, epochs=6, prune_epochs=(4,), prune_targets=(0.5,),
                 overprune_epoch=0, regrow_epoch=0, steps_per_epoch=2)
    kw = dict(seeds=(0, 1), schedule=sch)
    luts = {"preset": lut, "other": replace(lut, read_noise=2 * lut.read_noise)}
    serial = device_sweep(luts, "digits", executor="serial", **kw)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        seen = []
        dask = device_sweep(luts, "digits", scheduler=cluster.scheduler_address, on_run=seen.append, **kw)
    assert [(r["lut"], r["seed"]) for r in serial.runs] == [("preset", 0), ("preset", 1), ("other", 0), ("other", 1)]
    assert len(seen) == 4 and dask.runs == serial.runs and dask.table == serial.table
    assert serial.runs[0] != serial.runs[1] and serial.runs[0] != serial.runs[2]     # seeds and LUTs differ
