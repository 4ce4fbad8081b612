"""VAU fits and update rules on the device array: closed form, sparsity trend, operation counts,
pruned cells untouched, regrowth from G_min."""
import numpy as np
import pytest

from fefet_spice.lut.core import from_neurosim
from fefet_spice.train import msnet, vau
from fefet_spice.train.device import DeviceLayer, FloatLayer
from fefet_spice.train.pruning import prune_layer, regrow_layer
from fefet_spice.train.rules import RULES, update_layer
from fefet_spice.train.schedule import Schedule


@pytest.fixture(scope="module")
def lut():
    return from_neurosim(0.1e-6, 6.1e-6, a_ltp=20.0, a_ltd=15.0, p_max=40, sigma_c2c=0.005,
                         read_noise=0.017e-6, rng=0)


def _layer(lut, shape=(12, 5), seed=0):
    rng = np.random.default_rng(seed)
    layer = DeviceLayer(lut, shape, w_max=1.0)
    layer.program(rng.uniform(-0.8, 0.8, shape), rng, iters=10)
    return layer


def test_constant_a_closed_form_equals_ridge_solution():
    d = np.random.default_rng(0).standard_normal((9, 6))
    r, c = vau.fit_masked(d, np.ones(d.shape, bool), lam=1e-9)
    rc, cc = vau.fit_constant(d)
    np.testing.assert_allclose(vau.compose(r, c), vau.compose(rc, cc), atol=1e-6)
    # and it is the least-squares optimum: perturbing any operator increases the error
    base = np.sum((d - vau.compose(rc, cc)) ** 2)
    assert np.sum((d - vau.compose(rc + 0.01 * np.eye(9)[2], cc)) ** 2) > base


def test_masked_fit_is_exact_when_each_row_has_one_active_cell():
    d = np.random.default_rng(1).standard_normal((8, 4))
    mask = np.zeros(d.shape, bool)
    mask[np.arange(8), np.arange(8) % 4] = True
    r, c = vau.fit_masked(d, mask, lam=1e-9)
    assert vau.fit_errors(d, mask, vau.compose(r, c))[0] < 1e-6


def _pooled_fit_error(grads, masks, dense=False):
    """Pooled relative residual on the active cells, relative to the active cells' update or (``dense``)
    to the whole update."""
    num = den = 0.0
    for g, m in zip(grads, masks):
        e = (g - vau.compose(*vau.fit_masked(g, m)))[m]
        num, den = num + np.sum(e ** 2), den + np.sum((g if dense else g[m]) ** 2)
    return np.sqrt(num / den)


def test_masked_fit_error_falls_as_sparsity_rises_on_msnet_gradients():
    from fefet_spice.train import data, trainer

    # the paper's short pretraining (10 passes, no augmentation, weak L1: the pre-issue-12 defaults)
    from fefet_spice.train.schedule import PAPER_AS_FIRST_REPRODUCED

    sch = Schedule(**PAPER_AS_FIRST_REPRODUCED)
    ratios = []
    for seed in range(3):
        ds = data.load("digits", seed=seed)
        w, _, _ = trainer.pretrain(ds, sch, np.random.default_rng(seed))
        errors, dense = [], []
        for target in (0.523, 0.742):
            layers = [FloatLayer(a, np.abs(a).max(), 0.01) for a in w]
            for layer, t in zip(layers, sch.layer_targets(target)):
                prune_layer(layer, t, np.random.default_rng(0))
            _, grads, _ = msnet.loss_and_grads([l.weights() for l in layers], ds.x_train, ds.y_train)
            errors.append(_pooled_fit_error([-g for g in grads], [l.mask for l in layers]))
            dense.append(_pooled_fit_error([-g for g in grads], [l.mask for l in layers], dense=True))
        assert errors[1] < errors[0]
        assert dense[-1] < 0.9 * dense[-2]
        ratios.append(errors[1] / errors[0])
    assert np.mean(ratios) < 0.92


@pytest.mark.parametrize("rule,ops", [("vau", 6), ("vau-const", 6), ("cell", 60), ("manhattan", 60),
                                      ("rank1", 16)])
def test_operations_per_update(lut, rule, ops):
    layer = _layer(lut)
    delta = np.random.default_rng(3).standard_normal(layer.mask.shape) * 3 * layer.pulse_w
    st = update_layer(layer, delta, rule, np.random.default_rng(0), rank1_bits=16)
    assert st["operations"] == ops        # N + 1 = 6 for VAU against M * N = 60
    assert st["pulses"] > 0 and st["index_reads"] == 0


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("verify", [False, True])
def test_pruned_weight_never_changes(lut, rule, verify):
    rng = np.random.default_rng(4)
    layer = _layer(lut, seed=4)
    if rule == "float":
        layer = FloatLayer(layer.weights(), 1.0, layer.pulse_w)
    prune_layer(layer, 0.5, rng)
    pruned = ~layer.mask
    cells = (lambda: (layer.w, layer.w)) if rule == "float" else (lambda: (layer.gp, layer.gn))
    before = (layer.weights().copy(),) + tuple(a.copy() for a in cells())
    for _ in range(5):
        delta = rng.standard_normal(layer.mask.shape) * 4 * layer.pulse_w
        update_layer(layer, delta, rule, rng, verify=verify)
    after = (layer.weights(),) + cells()
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a[pruned], b[pruned])
    assert not np.array_equal(after[0][~pruned], before[0][~pruned])   # the active ones did move


def test_pruning_goes_to_gmin_and_regrowth_restarts_there(lut):
    rng = np.random.default_rng(5)
    layer = _layer(lut, seed=5)
    prune_layer(layer, 0.6, rng)
    pruned = ~layer.mask
    tol = 0.25 * layer.g_level          # write noise keeps a reset cell a little above the floor
    assert np.all(layer.gp[pruned] - lut.g_min < tol) and np.all(layer.gn[pruned] - lut.g_min < tol)
    momentum = rng.standard_normal(layer.mask.shape)
    idx = regrow_layer(layer, 0.25, momentum, expansion=2.0, rng=rng)
    assert idx.size == 15 and layer.mask.ravel()[idx].all() and pruned.ravel()[idx].all()
    cand = np.argsort(-np.abs(momentum.ravel()[pruned.ravel()]))[:30]
    assert set(idx) <= set(np.flatnonzero(pruned.ravel())[cand])
    assert np.all(np.abs(layer.weights().ravel()[idx]) < tol * layer.scale)
    delta = np.full(layer.mask.shape, 3 * layer.pulse_w)
    update_layer(layer, delta, "cell", rng)
    assert np.all(layer.weights().ravel()[idx] > 0)          # regrown weights now train from zero


def test_write_and_verify_reaches_tolerance(lut):
    rng = np.random.default_rng(6)
    layer = DeviceLayer(lut, (10, 4), w_max=1.0, read_noise=False)
    target = np.rint(rng.uniform(-1, 1, (10, 4)) * 15) / 15
    layer.program(target, rng, iters=30)
    assert np.abs(layer.weights() - target).max() <= 0.5 * layer.g_level * layer.scale + 1e-12
