"""The synthetic data generator: deterministic, realistic instrument effects, truth beside the data."""
import numpy as np

from fefet_spice import presets
from fefet_spice.generator import GeneratorConfig, draw_device, generate_device, run
from fefet_spice.generator.instrument import quantize
from fefet_spice.waveforms import dc_double_sweep


def test_deterministic_and_seed_dependent():
    a, _, ta = generate_device("sparsity", seed=7)
    b, _, tb = generate_device("sparsity", seed=7)
    c, _, _ = generate_device("sparsity", seed=8)
    name = "idvg_pm10V_vd0.1"
    np.testing.assert_array_equal(a[name]["id"], b[name]["id"])
    assert ta == tb
    assert not np.array_equal(a[name]["id"], c[name]["id"])


def test_quantization_and_compliance():
    cfg = GeneratorConfig()
    q = quantize(np.array([1.23456e-6, 3e-15, 1.234567e-9]), cfg)
    np.testing.assert_allclose(q, [1.235e-6, 0.0, 1.235e-9])
    data, _, _ = generate_device("sparsity", seed=1)
    i = np.abs(data["idvg_pm10V_vd1"]["id"])
    assert i.max() <= cfg.compliance
    steps = i[i > 0] / cfg.resolution
    assert np.allclose(steps[steps < 1000], np.round(steps[steps < 1000]))  # 10 fA grid at the floor


def test_discrete_domains_switch_stochastically():
    p = presets.get("weight")
    cfg = GeneratorConfig(n_domains=500)
    wave = dc_double_sweep(-5, 5, step=0.05, rate=1.0)
    p1 = run(draw_device(p, cfg, np.random.default_rng(0)), wave, np.random.default_rng(1))[0]
    p2 = run(draw_device(p, cfg, np.random.default_rng(0)), wave, np.random.default_rng(2))[0]
    # saturates both ways (the domain-weighted sum of +-1 states is exact only to rounding)
    assert abs(p1[0] + 1.0) < 1e-12 and abs(p1.max() - 1.0) < 1e-12
    assert not np.array_equal(p1, p2)  # same device, different flip times
    assert np.unique(np.round(np.diff(p1), 12)).size > 5  # discrete jumps of various domain sizes


def test_truth_and_holdout():
    data, holdout, truth = generate_device("weight", seed=2025)
    assert truth["schema"] == "fefet-generator-truth/1"
    assert abs(truth["key"]["vt_mid"] - presets.get("weight").vt_mid) < 0.1
    assert holdout is not None and holdout.kind == "pulse" and len(holdout) == 121
    assert {m.kind for m in data.values()} == {"idvg", "idvd", "pulse"}
    assert "minor_a" in data and "minor_b" in data
