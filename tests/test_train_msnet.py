"""MSNet: weight count, shapes, and a finite-difference gradient check of the float network."""
import numpy as np
import pytest

from fefet_spice.train import msnet


def test_weight_count_is_1060():
    assert msnet.n_weights() == 1060
    assert [w.size for w in msnet.init_weights(np.random.default_rng(0))] == [100, 800, 160]


def test_feature_map_shapes():
    rng = np.random.default_rng(1)
    x = (rng.random((3, 20, 20)) > 0.5).astype(float)
    logits, cache = msnet.forward(msnet.init_weights(rng), x)
    assert logits.shape == (3, 5)
    assert cache["a1"].shape == (3, 64, 4)      # 8x8x4
    assert cache["p2"].shape == (3, 16, 100)    # 4x4 positions x (4x5x5)
    assert cache["a3"].reshape(3, -1).shape == (3, 32)


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_gradient_matches_finite_differences(layer):
    rng = np.random.default_rng(2)
    x = rng.random((6, 20, 20))                 # grey levels: no ties in the max-pool
    y = rng.integers(0, 5, 6)
    w = msnet.init_weights(rng)
    _, grads, _ = msnet.loss_and_grads(w, x, y)
    assert np.abs(grads[layer]).max() > 1e-4
    h = 1e-6
    for flat in rng.choice(w[layer].size, 12, replace=False):
        i = np.unravel_index(flat, w[layer].shape)
        wp = [a.copy() for a in w]
        wm = [a.copy() for a in w]
        wp[layer][i] += h
        wm[layer][i] -= h
        num = (msnet.loss_and_grads(wp, x, y)[0] - msnet.loss_and_grads(wm, x, y)[0]) / (2 * h)
        assert grads[layer][i] == pytest.approx(num, rel=1e-4, abs=1e-8)
