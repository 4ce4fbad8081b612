"""MSNet in plain numpy, with every layer as a crossbar matrix (im2col), float forward and backward.

Architecture (``../shared/SPEC.md`` section 4; Ning et al. 2025, DOI 10.1038/s41928-024-01328-4):

* Conv1: 4 kernels of 5x5, stride 2, **no padding** on a 20x20 binary image -> 8x8x4, ReLU.
  ``(20 - 5) // 2 + 1 = 8``: the last pixel row and column (index 19) are never covered.
* Conv2: 8 kernels of 4x5x5, stride 1, **no padding** -> ``8 - 5 + 1 = 4`` -> 4x4x8, ReLU.
* Max-pool 2x2 (stride 2) -> 2x2x8 = 32 features.
* FC 32 x 5, softmax (cross-entropy loss, batch mean). No biases: 100 + 800 + 160 = **1,060 weights**.

Crossbar view: layer ``l`` is a matrix ``W_l`` of shape (M, N) = (fan-in rows, output columns):
(25, 4), (100, 8), (32, 5). Inputs drive the rows (data input lines), outputs are the column sums
(data output lines). A conv layer multiplies its im2col patch matrix by ``W_l``.
Patch order: conv1 (kh, kw); conv2 (c, kh, kw); feature maps are stored (h, w, c).
"""
from __future__ import annotations

import numpy as np

IMAGE = 20
"""Input side [pixels]."""
SHAPES = ((25, 4), (100, 8), (32, 5))
"""Crossbar matrix shape (M rows = fan-in, N columns = outputs) of each layer."""
LAYER_NAMES = ("conv1", "conv2", "fc")
N_CLASSES = 5


def n_weights() -> int:
    """Total number of weights (1,060)."""
    return sum(m * n for m, n in SHAPES)


def _conv1_index() -> np.ndarray:
    """(64, 25) indices into the flattened 20x20 image: output position x (kh, kw)."""
    oh = np.arange(8) * 2
    kh = np.arange(5)
    rows = (oh[:, None, None, None] + kh[None, None, :, None]) * IMAGE
    cols = oh[None, :, None, None] + kh[None, None, None, :]
    return (rows + cols).reshape(64, 25)


def _conv2_index() -> np.ndarray:
    """(16, 100) indices into the flattened 8x8x4 map (h, w, c): output position x (c, kh, kw)."""
    o = np.arange(4)
    k = np.arange(5)
    c = np.arange(4)
    h = o[:, None, None, None, None] + k[None, None, None, :, None]
    w = o[None, :, None, None, None] + k[None, None, None, None, :]
    idx = (h * 8 + w) * 4 + c[None, None, :, None, None]
    return idx.reshape(16, 100)


IDX1 = _conv1_index()
IDX2 = _conv2_index()


def init_weights(rng: np.random.Generator) -> list[np.ndarray]:
    """He-normal initial weights, one (M, N) matrix per layer."""
    return [rng.standard_normal((m, n)) * np.sqrt(2.0 / m) for m, n in SHAPES]


def forward(weights, x: np.ndarray) -> tuple[np.ndarray, dict]:
    """Logits (B, 5) for images ``x`` (B, 20, 20) and the cache needed by :func:`backward`."""
    w1, w2, w3 = weights
    b = x.shape[0]
    p1 = x.reshape(b, IMAGE * IMAGE)[:, IDX1]                  # (B, 64, 25)
    a1 = np.maximum(p1 @ w1, 0.0)                               # (B, 64, 4)
    p2 = a1.reshape(b, 256)[:, IDX2]                            # (B, 16, 100)
    a2 = np.maximum(p2 @ w2, 0.0).reshape(b, 2, 2, 2, 2, 8)     # (B, ph, dh, pw, dw, 8)
    a2 = a2.transpose(0, 1, 3, 2, 4, 5).reshape(b, 4, 4, 8)     # (B, pool cell, 2x2 window, 8)
    a3 = a2.max(axis=2)                                         # (B, 4, 8)
    logits = a3.reshape(b, 32) @ w3
    return logits, {"p1": p1, "a1": a1, "p2": p2, "a2": a2, "a3": a3}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def loss_and_grads(weights, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray], np.ndarray]:
    """Mean cross-entropy, its gradients with respect to every crossbar matrix, and the logits."""
    logits, cache = forward(weights, x)
    prob = softmax(logits)
    b = x.shape[0]
    loss = float(-np.mean(np.log(prob[np.arange(b), y] + 1e-300)))
    dlogits = prob
    dlogits[np.arange(b), y] -= 1.0
    dlogits /= b
    return loss, backward(weights, cache, dlogits), logits


def backward(weights, cache: dict, dlogits: np.ndarray) -> list[np.ndarray]:
    """Gradients of the loss with respect to (w1, w2, w3) given d loss / d logits (B, 5)."""
    _, w2, w3 = weights
    b = dlogits.shape[0]
    a3 = cache["a3"].reshape(b, 32)
    g3 = a3.T @ dlogits
    da3 = (dlogits @ w3.T).reshape(b, 4, 1, 8)
    a2 = cache["a2"]
    win = a2 == cache["a3"][:, :, None, :]
    first = win & (np.cumsum(win, axis=2) == 1)                 # route to one argmax per window
    dz2 = np.where(first & (a2 > 0), da3, 0.0)                  # ReLU mask folded in
    dz2 = dz2.reshape(b, 2, 2, 2, 2, 8).transpose(0, 1, 3, 2, 4, 5).reshape(b, 16, 8)
    g2 = _outer_sum(cache["p2"], dz2)
    dp2 = (dz2 @ w2.T).reshape(b, 4, 4, 4, 5, 5)               # (B, oh, ow, c, kh, kw)
    da1 = np.zeros((b, 8, 8, 4))
    for kh in range(5):                                         # col2im: 25 shifted slice-adds
        for kw in range(5):
            da1[:, kh: kh + 4, kw: kw + 4, :] += dp2[:, :, :, :, kh, kw]
    dz1 = np.where(cache["a1"] > 0, da1.reshape(b, 64, 4), 0.0)
    return [_outer_sum(cache["p1"], dz1), g2, g3]


def _outer_sum(p: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """Σ over batch and positions of patch x output-gradient outer products: (K, N)."""
    return p.reshape(-1, p.shape[-1]).T @ dz.reshape(-1, dz.shape[-1])


def predict(weights, x: np.ndarray) -> np.ndarray:
    """Predicted class per image."""
    return forward(weights, x)[0].argmax(axis=1)


def accuracy(weights, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of images classified correctly."""
    return float(np.mean(predict(weights, x) == y))
