"""Off-chip (software) pretraining of MSNet, and the shift augmentation it shares with the on-chip phase.

Mini-batch Adam on float shadow weights with a ``pretrain_bits`` straight-through forward pass, L1/L2
terms, a cosine learning-rate decay over all pretraining steps, and (``augment_shift`` > 0) every image
moved by a random whole-pixel shift in ``[-k, k]²`` (zero fill) each pass. One pretraining *epoch* of the
schedule is ``pretrain_passes`` passes over the training images (the paper's 10 epochs are too few for
MSNet to converge on 250 EMNIST letters). The float shadow weights at the end are the dense software
reference (``dense_software_accuracy``): MSNet trained dense in float on the same images.

Pruning-aware pretraining (``prune_aware_passes`` > 0; protocol ``software-pruned`` only): after the dense passes, still in
software and before transfer, the network is magnitude-pruned gradually to the schedule's final
per-layer sparsities and fine-tuned with the same augmentation, so the array receives a network that
already works at 74 % sparsity. The on-chip pruning schedule then runs unchanged (its magnitude pruning
first removes the pairs that arrived at zero); the dense weights before these passes remain the dense
software reference.
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


class _Adam:
    """Mini-batch Adam on float shadow weights (in place), a cosine step from ``lr0`` to 0 over ``total``
    steps (constant without ``cosine``); ``mask``: weights outside stay exactly 0."""

    def __init__(self, w: list, sch, lr0: float, total: int, cosine: bool = True):
        self.w, self.sch, self.lr0, self.total, self.cosine = w, sch, lr0, total, cosine
        self.m = [np.zeros_like(a) for a in w]
        self.v = [np.zeros_like(a) for a in w]
        self.t = 0
        self.mask = None

    def one_pass(self, data, rng: np.random.Generator) -> list:
        """One pass over the (shift-augmented, shuffled) training images; returns the batch losses."""
        sch, w, n = self.sch, self.w, len(data.y_train)
        order = rng.permutation(n)
        x = shift_images(data.x_train, sch.augment_shift, rng)
        losses = []
        for s in range(0, n, sch.pretrain_batch):
            idx = order[s: s + sch.pretrain_batch]
            loss, grads, _ = msnet.loss_and_grads([quantize(a, sch.pretrain_bits) for a in w], x[idx],
                                                  data.y_train[idx])
            losses.append(loss)
            self.t += 1
            lr = self.lr0 * (0.5 * (1 + np.cos(np.pi * self.t / self.total)) if self.cosine else 1.0)
            for i, g in enumerate(grads):
                g = g + sch.l1 * np.sign(w[i]) + 2 * sch.l2 * w[i]
                self.m[i] = sch.beta1 * self.m[i] + (1 - sch.beta1) * g
                self.v[i] = sch.beta2 * self.v[i] + (1 - sch.beta2) * g * g
                mh, vh = self.m[i] / (1 - sch.beta1 ** self.t), self.v[i] / (1 - sch.beta2 ** self.t)
                w[i] = w[i] - lr * mh / (np.sqrt(vh) + EPS)
                if self.mask is not None:
                    w[i] = w[i] * self.mask[i]
        return losses


def magnitude_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep all but the ``sparsity`` fraction of smallest-|w| entries (stable order)."""
    keep = np.ones(w.size, dtype=bool)
    keep[np.argsort(np.abs(w).ravel(), kind="stable")[: int(round(sparsity * w.size))]] = False
    return keep.reshape(w.shape)


def prune_aware(w: list, data, sch, rng: np.random.Generator) -> list:
    """``prune_aware_passes`` passes of software magnitude pruning with fine-tuning (in place): at the
    start of each pass in the first ``prune_ramp`` of them the per-layer sparsity rises as
    ``1 - (1 - p)^3`` (Zhu & Gupta 2017) towards the schedule's final per-layer targets; the rest
    fine-tune the pruned network. Fresh Adam moments, cosine step from ``prune_aware_lr``."""
    passes = sch.prune_aware_passes
    final = sch.layer_targets(sch.prune_targets[-1]) if sch.prune_targets else [0.0] * len(w)
    opt = _Adam(w, sch, sch.prune_aware_lr, passes * -(-len(data.y_train) // sch.pretrain_batch))
    ramp = max(1, int(round(sch.prune_ramp * passes)))
    losses = []
    for p in range(passes):
        if p < ramp:
            frac = 1 - (1 - (p + 1) / ramp) ** 3
            opt.mask = [magnitude_mask(a, frac * s) for a, s in zip(w, final)]
            w[:] = [a * k for a, k in zip(w, opt.mask)]
        losses += opt.one_pass(data, rng)
    return losses


def pretrain(data, sch, rng: np.random.Generator, on_epoch=None) -> tuple[list, list, list]:
    """Returns the ``pretrain_bits`` weights (what is transferred), the dense float shadow weights (the
    dense software reference) and the epoch records. With ``prune_aware_passes`` > 0 the last
    pretraining epoch adds :func:`prune_aware` passes, starting from the converged dense weights (which
    stay the dense reference); the transferred weights are then the pruned ones."""
    w = msnet.init_weights(rng)
    per_pass = -(-len(data.y_train) // sch.pretrain_batch)
    opt = _Adam(w, sch, sch.pretrain_lr, sch.pretrain_epochs * sch.pretrain_passes * per_pass, sch.pretrain_cosine)
    dense, records = w, []
    for epoch in range(1, sch.pretrain_epochs + 1):
        losses = []
        for _ in range(sch.pretrain_passes):
            losses += opt.one_pass(data, rng)
        if epoch == sch.pretrain_epochs and sch.prune_aware_passes > 0:
            dense = [a.copy() for a in w]
            losses += prune_aware(w, data, sch, rng)
        rec = _record(epoch, losses, [quantize(a, sch.pretrain_bits) for a in w], data)
        if dense is not w:
            rec["layer_sparsity"] = [float((a == 0).mean()) for a in w]
            rec["sparsity"] = float(sum(int((a == 0).sum()) for a in w) / msnet.n_weights())
            rec["events"] = [f"software pruning {rec['sparsity']:.3f} (pruning-aware pretraining, before transfer)"]
        records.append(rec)
        if on_epoch:
            on_epoch(rec)
    return [quantize(a, sch.pretrain_bits) for a in w], dense, records
