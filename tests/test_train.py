"""Trainer: schedule file, CLI output, and a cheap accuracy check of VAU against cell and float."""
import json

import numpy as np
import pytest

from fefet_spice.errors import ParamError
from fefet_spice.train import schedule


def test_schedule_defaults_and_per_layer_targets():
    sch = schedule.Schedule()
    assert sch.prune_epochs == (11, 17, 23, 26) and sch.epochs == 57
    sizes = np.array([100, 800, 160])
    for t in (0.523, 0.742, 0.742 + 0.127):
        assert np.dot(sch.layer_targets(t), sizes) / sizes.sum() == pytest.approx(t, abs=2e-3)


def test_schedule_file_roundtrip_and_errors(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"schema": schedule.SCHEMA, "epochs": 30, "prune_epochs": [12],
                                "prune_targets": [0.5], "verify": True}))
    sch = schedule.load(path)
    assert sch.epochs == 30 and sch.prune_epochs == (12,) and sch.verify is True
    assert schedule.from_dict(sch.to_dict()) == sch
    path.write_text(json.dumps({"epochs": 30, "epoch_count": 3}))
    with pytest.raises(ParamError, match="unknown key.*epoch_count"):
        schedule.load(path)
    path.write_text(json.dumps({"prune_epochs": [12, 13], "prune_targets": [0.5]}))
    with pytest.raises(ParamError, match="same length"):
        schedule.load(path)
    path.write_text("{")
    with pytest.raises(ParamError, match="line 1"):
        schedule.load(path)


def test_cli_train_writes_history(tmp_path):
    from fefet_spice.cli import main

    out = tmp_path / "t.json"
    png = tmp_path / "t.png"
    assert main(["train", "--dataset", "digits", "--epochs", "12", "--update", "vau", "--seed", "1",
                 "--json", str(out), "--plot", str(png), "--quiet"]) == 0
    res = json.loads(out.read_text())
    assert 0 <= res["final_accuracy"] <= 1 and res["final_accuracy"] > 0.5
    assert res["final_sparsity"] == pytest.approx(0.523, abs=0.01)
    ep = res["epochs"]
    assert [e["epoch"] for e in ep] == list(range(1, 13))
    for key in ("epoch", "accuracy", "sparsity", "operations", "pulses", "index_reads", "loss",
                "layer_sparsity", "fit_error_active", "fit_error_all"):
        assert key in ep[-1]
    # weight registers (the default): one cell write per firing pair, at most every weight in each update
    assert 0 < ep[-1]["operations"] <= 5 * 1060 and ep[-1]["update_pulses"] >= ep[-1]["operations"]
    assert res["protocol"] == "paper" and res["accuracy_update_off"] is not None
    assert ep[-1]["fit_error_active"] < ep[-1]["fit_error_all"]
    assert png.stat().st_size > 10_000


def test_cli_rejects_bad_dataset(capsys):
    from fefet_spice.cli import main

    assert main(["train", "--dataset", "cifar", "--epochs", "11"]) == 2
    assert "digits" in capsys.readouterr().err


def test_vau_close_to_cell_and_float_on_digits():
    """Cheap stand-in for the 5-seed benchmark: reduced schedule (5 x 3 pretraining passes + 20 epochs,
    4 pruning steps to 74.2 %), embedded digits, weight-preset LUT, two seeds."""
    from fefet_spice import presets
    from fefet_spice.characterize import lut_from_model
    from fefet_spice.train import data, trainer

    lut = lut_from_model(presets.get("weight"))
    sch = schedule.Schedule(pretrain_epochs=5, epochs=25, prune_epochs=(6, 9, 12, 14), pretrain_passes=3)
    acc = {r: [] for r in ("float", "cell", "vau")}
    for seed in (0, 1):
        ds = data.load("digits", seed=seed)
        for rule in acc:
            res = trainer.train(ds, lut, rule, sch, seed=seed)
            assert res["final_sparsity"] == pytest.approx(0.742, abs=0.01)
            acc[rule].append(res["final_accuracy"])
    mean = {r: np.mean(v) for r, v in acc.items()}
    assert mean["vau"] > 0.85
    assert mean["vau"] >= mean["cell"] - 0.03
    assert mean["vau"] >= mean["float"] - 0.04


def test_cli_consumes_a_native_lut_folder(tmp_path):
    from fefet_spice.cli import main
    from fefet_spice.lut.core import from_neurosim
    from fefet_spice.lut.native import save_lut

    lut = from_neurosim(0.1e-6, 6.1e-6, a_ltp=20.0, a_ltd=15.0, p_max=40, sigma_c2c=0.005,
                        read_noise=0.017e-6, rng=0)
    save_lut(tmp_path / "lut", lut)
    out = tmp_path / "t.json"
    assert main(["train", "--lut", str(tmp_path / "lut"), "--update", "cell", "--epochs", "11",
                 "--json", str(out), "--quiet"]) == 0
    res = json.loads(out.read_text())
    # cell with weight registers (the paper protocol): one write per firing cell, at most M x N per update
    assert res["lut"].startswith("lut ") and 0 < res["epochs"][-1]["operations"] <= 5 * 1060
