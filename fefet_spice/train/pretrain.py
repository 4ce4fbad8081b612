"""Off-chip (software) pretraining of MSNet, and the shift augmentation it shares with the on-chip phase.

Mini-batch Adam on float shadow weights with a ``pretrain_bits`` straight-through forward pass, L1/L2
terms, a cosine learning-rate decay over all pretraining steps, and (``augment_shift`` > 0) every image
moved by a random whole-pixel shift in ``[-k, k]²`` (zero fill) each pass. One pretraining *epoch* of the
schedule is ``pretrain_passes`` passes over the training images (the paper's 10 epochs are too few for
MSNet to converge on 250 EMNIST letters). The float shadow weights at the end are the dense software
reference (``dense_software_accuracy``): MSNet trained dense in float on the same images.
"""
from __future__ import annotations

import numpy as np

from . import msnet

EPS = 1e-8


def quantize(w: np.ndarray, bits: int) -> np.ndarray:
    """Signed uniform quantization to ``bits`` with the per-matrix scale max|w|."""
    top = np.abs(w).max()
    n = 2 ** (bits - 1) - 1
    return np.rint(w / top * n) * top / n if top > 0 else w


def shift_images(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Every image (n, h, w) moved by its own random shift in ``[-k, k]`` pixels per axis (zero fill)."""
    if k <= 0:
        return x
    n, h, w = x.shape
    pad = np.pad(x, ((0, 0), (k, k), (k, k)))
    dy = rng.integers(0, 2 * k + 1, n)
    dx = rng.integers(0, 2 * k + 1, n)
    rows = dy[:, None] + np.arange(h)[None, :]                       # (n, h)
    cols = dx[:, None] + np.arange(w)[None, :]                       # (n, w)
    return pad[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def _record(epoch, losses, wq, data) -> dict:
    return {"epoch": epoch, "phase": "pretrain", "loss": float(np.mean(losses)),
            "accuracy": msnet.accuracy(wq, data.x_test, data.y_test),
            "train_accuracy": msnet.accuracy(wq, data.x_train, data.y_train),
            "sparsity": 0.0, "layer_sparsity": [0.0, 0.0, 0.0], "device_sparsity": None,
            "operations": 0, "pulses": 0,
            "verify_reads": 0, "verify_operations": 0, "index_reads": 0, "index_reads_external": 0,
            "fit_error_active": None, "fit_error_all": None, "fit_error_dense": None, "lr": None, "events": []}


def _adam_passes(w, data, sch, rng, passes: int, mask=None, prune_to=None) -> list:
    """``passes`` passes of mini-batch Adam (fresh moments, cosine step from ``prune_aware_lr``) on the float
    shadow weights ``w`` (in place). ``mask`` (list of bool arrays or None): weights outside stay 0.
    ``prune_to`` (per-layer final sparsity): magnitude pruning at the start of every pass in the first
    ``prune_ramp`` of the passes, sparsity rising as 1 - (1 - p)^3 (Zhu & Gupta), then fine-tuning."""
    m = [np.zeros_like(a) for a in w]
    v = [np.zeros_like(a) for a in w]
    n = len(data.y_train)
    total = passes * -(-n // sch.pretrain_batch)
    ramp = max(1, int(round(sch.prune_ramp * passes))) if prune_to is not None else 0
    t, losses = 0, []
    for p in range(passes):
        if p < ramp:
            frac = 1 - (1 - (p + 1) / ramp) ** 3
            mask = [_magnitude_mask(a, frac * s) for a, s in zip(w, prune_to)]
        if mask is not None:
            w[:] = [a * k for a, k in zip(w, mask)]
        order = rng.permutation(n)
        x = shift_images(data.x_train, sch.augment_shift, rng)
        for s in range(0, n, sch.pretrain_batch):
            idx = order[s: s + sch.pretrain_batch]
            wq = [quantize(a, sch.pretrain_bits) for a in w]
            loss, grads, _ = msnet.loss_and_grads(wq, x[idx], data.y_train[idx])
            losses.append(loss)
            t += 1
            lr = sch.prune_aware_lr * 0.5 * (1 + np.cos(np.pi * t / total))
            for i, g in enumerate(grads):
                g = g + sch.l1 * np.sign(w[i]) + 2 * sch.l2 * w[i]
                m[i] = sch.beta1 * m[i] + (1 - sch.beta1) * g
                v[i] = sch.beta2 * v[i] + (1 - sch.beta2) * g * g
                mh, vh = m[i] / (1 - sch.beta1 ** t), v[i] / (1 - sch.beta2 ** t)
                w[i] = w[i] - lr * mh / (np.sqrt(vh) + EPS)
                if mask is not None:
                    w[i] = w[i] * mask[i]
    return losses


def _magnitude_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep all but the ``sparsity`` fraction of smallest-|w| entries (stable order)."""
    k = int(round(sparsity * w.size))
    keep = np.ones(w.size, dtype=bool)
    keep[np.argsort(np.abs(w).ravel(), kind="stable")[:k]] = False
    return keep.reshape(w.shape)


def pretrain(data, sch, rng: np.random.Generator, on_epoch=None) -> tuple[list, list, list]:
    """Returns the ``pretrain_bits`` weights (what is transferred), the dense float shadow weights (the
    dense software reference) and the epoch records. With ``prune_aware_passes`` > 0 the last
    pretraining epoch adds that many passes of software magnitude pruning with fine-tuning to the
    schedule's final per-layer targets, starting from the converged dense weights (which stay the
    dense reference); the transferred weights are then the pruned ones."""
    w = msnet.init_weights(rng)
    passes = sch.pretrain_passes
    records = []
    m = [np.zeros_like(a) for a in w]
    v = [np.zeros_like(a) for a in w]
    n = len(data.y_train)
    total = sch.pretrain_epochs * passes * -(-n // sch.pretrain_batch)
    t = 0
    dense = None
    for epoch in range(1, sch.pretrain_epochs + 1):
        losses = []
        for _ in range(passes):
            order = rng.permutation(n)
            x = shift_images(data.x_train, sch.augment_shift, rng)
            for s in range(0, n, sch.pretrain_batch):
                idx = order[s: s + sch.pretrain_batch]
                wq = [quantize(a, sch.pretrain_bits) for a in w]
                loss, grads, _ = msnet.loss_and_grads(wq, x[idx], data.y_train[idx])
                losses.append(loss)
                t += 1
                lr = sch.pretrain_lr * (0.5 * (1 + np.cos(np.pi * t / total)) if sch.pretrain_cosine else 1.0)
                for i, g in enumerate(grads):
                    g = g + sch.l1 * np.sign(w[i]) + 2 * sch.l2 * w[i]
                    m[i] = sch.beta1 * m[i] + (1 - sch.beta1) * g
                    v[i] = sch.beta2 * v[i] + (1 - sch.beta2) * g * g
                    mh, vh = m[i] / (1 - sch.beta1 ** t), v[i] / (1 - sch.beta2 ** t)
                    w[i] = w[i] - lr * mh / (np.sqrt(vh) + EPS)
        if epoch == sch.pretrain_epochs and sch.prune_aware_passes > 0:
            dense = [a.copy() for a in w]
            targets = sch.layer_targets(sch.prune_targets[-1]) if sch.prune_targets else [0.0] * len(w)
            losses += _adam_passes(w, data, sch, rng, sch.prune_aware_passes, prune_to=targets)
        rec = _record(epoch, losses, [quantize(a, sch.pretrain_bits) for a in w], data)
        if dense is not None:
            per = [float((a == 0).mean()) for a in w]
            rec["layer_sparsity"] = per
            rec["sparsity"] = float(sum((a == 0).sum() for a in w) / msnet.n_weights())
        records.append(rec)
        if on_epoch:
            on_epoch(rec)
    return [quantize(a, sch.pretrain_bits) for a in w], (dense if dense is not None else w), records
