"""The array in the training loop: cells are the compact model's fast path, not the LUT."""
import numpy as np
import pytest

from fefet_spice import presets


@pytest.fixture(scope="module")
def lut():
    from fefet_spice.characterize import lut_from_model

    return lut_from_model(presets.get("weight"))


def test_array_layer_fires_on_the_model_and_reads_it_back(lut):
    from fefet_spice.train.array_layer import ArrayDeviceLayer
    from fefet_spice.train.device import DeviceLayer

    rng = np.random.default_rng(0)
    layer = ArrayDeviceLayer(lut, (4, 3), 1.0, presets.nominal(presets.get("weight")), read_noise=False)
    twin = DeviceLayer(lut, (4, 3), 1.0, read_noise=False, write_noise=False)
    assert np.allclose(layer.gp, lut.g_min) and np.allclose(layer.gn, lut.g_min)
    n = np.array([[1, 2, 4], [8, 0, -3], [2, 2, 2], [0, 5, 1]])
    assert layer.apply(n, rng) == twin.apply(n, rng) > 0
    # what the network reads is the model's conductance, mapped onto the LUT range
    g = layer.gmap.to_lut(layer.array.conductance()[:, 0]).reshape((2, 4, 3))
    assert np.array_equal(layer.gp, g[0]) and np.array_equal(layer.gn, g[1])
    w = layer.weights()
    assert np.all(np.diff(w[0]) > 0)                       # more up pulses, larger weight
    assert np.all(w[n > 0] > 0) and w[1, 2] < 0
    # the model is not the LUT: same counts, different conductances (LUT drift is what it corrects)
    assert not np.allclose(w, twin.weights())
    assert np.max(np.abs(w - twin.weights())) < 0.5 * np.abs(w).max()
    # pruning: reset pulses on the model take both cells to G_min and switch the pair off
    sel = np.zeros((4, 3), dtype=bool)
    sel[0, 2] = sel[3, 1] = True
    assert layer.prune(sel, rng, reset_pulses=64) == 2 * 64 * 2
    span = lut.g_max - lut.g_min
    assert np.all(layer.gp[sel] - lut.g_min < 0.01 * span) and not layer.mask[sel].any()
    before = layer.gp.copy()
    layer.apply(np.full((4, 3), 3), rng)
    assert np.array_equal(layer.gp[sel], before[sel])      # pruned pairs never move


def test_array_cells_with_variation_are_device_samples_with_cycle_to_cycle_jitter(lut):
    """A weight FeFET with variation: every cell its own device sample, every pulse jittered (seeded)."""
    from fefet_spice.train.array_layer import ArrayDeviceLayer

    varied = presets.get("weight")                    # sigma_vt_d2d 0.02 V, sigma_c2c 0.1
    with pytest.raises(ValueError, match="needs rng"):
        ArrayDeviceLayer(lut, (4, 3), 1.0, varied, read_noise=False)
    n = np.full((4, 3), 3)

    def fired(params, seed):
        rng = np.random.default_rng(seed)
        layer = ArrayDeviceLayer(lut, (4, 3), 1.0, params, read_noise=False, rng=rng)
        g0 = layer.gp.copy()
        layer.apply(n, rng)
        return g0, layer.gp

    g0, g = fired(varied, 1)
    assert np.ptp(g0) > 0                              # device-to-device: the same state reads apart
    steps = g - g0
    assert np.ptp(steps) > 0.02 * np.abs(steps).mean()  # and the same 3 pulses move the cells apart
    again = fired(varied, 1)
    assert np.array_equal(again[1], g)                 # seeded
    g0n, gn = fired(presets.nominal(varied), 1)
    assert np.ptp(g0n) == 0 and np.ptp(gn - g0n) < 1e-12 * (lut.g_max - lut.g_min)


def test_training_with_the_array_in_the_loop(lut):
    from fefet_spice.train import data, schedule, trainer

    sch = schedule.for_protocol("paper", pretrain_epochs=4, pretrain_passes=2, epochs=12,
                                prune_epochs=(5, 6, 7, 8), overprune_epoch=9, regrow_epoch=11)
    ds = data.load("digits", seed=0)
    res = trainer.train(ds, lut, "vau", sch, seed=0, array_params=presets.nominal(presets.get("weight")))
    assert res["device_model"] == f"array:{presets.get('weight').name}"
    assert res["update_pulses"] > 0 and res["final_accuracy"] > 0.6
    assert res["onchip_contribution"] > 0
    assert trainer.train(ds, lut, "float", sch, seed=0, update_off=False)["device_model"] == "lut"
    with pytest.raises(ValueError, match="LUT as the device"):
        trainer.train(ds, lut, "vau", schedule.for_protocol("paper", tiki_taka=True), seed=0,
                      array_params=presets.nominal(presets.get("weight")))


@pytest.mark.parametrize("lut_dir, noted", [("luts/weight_ref", True), ("luts/weight_ref_traffic", False)])
def test_train_cli_points_the_array_at_a_traffic_lut(lut_dir, noted, capsys):
    from pathlib import Path

    from fefet_spice.cli import main

    root = Path(__file__).resolve().parents[1]
    assert main(["train", "--lut", str(root / lut_dir), "--array-params", str(root / "fits/weight_ref.json"),
                 "--dataset", "digits", "--epochs", "12", "--no-update-off", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert ("characterize --traffic" in err) is noted, err


def test_train_cli_array_variation(capsys, tmp_path):
    import json
    from pathlib import Path

    from fefet_spice.cli import main

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "t.json"
    assert main(["train", "--lut", str(root / "luts/weight_ref_traffic"), "--array-params",
                 str(root / "fits/weight_ref.json"), "--array-variation", "weight", "--dataset", "digits",
                 "--epochs", "12", "--no-update-off", "--quiet", "--json", str(out)]) == 0
    assert "with the variation of weight" in capsys.readouterr().out
    assert json.loads(out.read_text())["device_model"] == "array:weight_ref+variation"
    assert main(["train", "--array-variation", "weight", "--dataset", "digits", "--epochs", "12"]) == 2
    assert "needs --array-params" in capsys.readouterr().err
    assert main(["train", "--array-params", "weight", "--array-variation", str(root / "fits/weight_ref.json"),
                 "--dataset", "digits", "--epochs", "12"]) == 2
    assert "has no device-to-device" in capsys.readouterr().err
