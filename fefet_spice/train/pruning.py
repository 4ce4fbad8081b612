"""Magnitude pruning per layer and momentum-ranked random regrowth (works on any layer object with
``weights()``, ``mask``, ``prune(sel, rng, ...)`` and ``regrow(sel)``)."""
from __future__ import annotations

import numpy as np


def prune_layer(layer, target: float, rng: np.random.Generator, **kw) -> int:
    """Prune the smallest-|w| active weights until the layer's sparsity reaches ``target`` [fraction].
    Returns how many weights were pruned."""
    size = layer.mask.size
    k = int(round(target * size)) - int((~layer.mask).sum())
    if k <= 0:
        return 0
    active = np.flatnonzero(layer.mask)
    mag = np.abs(layer.weights().ravel()[active])
    chosen = active[np.argsort(mag, kind="stable")[:k]]
    sel = np.zeros(size, dtype=bool)
    sel[chosen] = True
    layer.prune(sel.reshape(layer.mask.shape), rng, **kw)
    return k


def regrow_layer(layer, fraction: float, momentum: np.ndarray, expansion: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Regrow ``fraction`` of the layer's weights: rank pruned weights by |gradient momentum|, keep the
    top ``expansion`` x count as candidates, choose the count at random (seeded). Returns the flat
    indices regrown; they restart from G_min (weight 0)."""
    pruned = np.flatnonzero(~layer.mask)
    k = min(int(round(fraction * layer.mask.size)), pruned.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    ranked = pruned[np.argsort(-np.abs(momentum.ravel()[pruned]), kind="stable")]
    cand = ranked[: min(pruned.size, max(k, int(np.ceil(expansion * k))))]
    chosen = rng.choice(cand, k, replace=False)
    sel = np.zeros(layer.mask.size, dtype=bool)
    sel[chosen] = True
    layer.regrow(sel.reshape(layer.mask.shape))
    return np.sort(chosen)
