"""The MSNet training loop: off-chip pretraining, transfer to the array, on-chip sparse training.

On-chip, every epoch runs ``steps_per_epoch`` full-batch updates: the array is read (with read noise),
the float backward pass gives the gradient of the effective weights ``S ⊙ W``, Adam turns it into a
desired update of about ``lr`` nominal pulses per step (the epoch's step, :meth:`Schedule.onchip_lr`;
second moment per weight or, ``adam_mode="layer"``, one per layer), and the update rule
(:mod:`.rules`) turns that into pulses through the LUT. Pruning, over-pruning and regrowth run at the
start of their epochs (:mod:`.schedule`). The result holds ``dense_software_accuracy``: the
pretraining's float weights (MSNet trained dense in software on the same images) on the same
evaluation images. Pure numpy: no IO; progress goes through the optional ``on_epoch`` callback.

``recorder`` (a list, default None: off, no cost) receives the run's array operations in order, for a
replay on arrays (:mod:`fefet_spice.array.replay`): ``{"kind": "transfer"}`` with every layer's G+, G-
and mask after programming; per on-chip update and layer ``{"kind": "update", "ops": [...]}`` (the
fires of :func:`.rules.update_layer`); per pruning or regrowth event its masks after it; ``"final"``.
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

from . import msnet
from .device import DeviceLayer, FloatLayer
from .pretrain import pretrain, shift_images
from .pruning import prune_layer, regrow_layer
from .rules import RULES, update_layer
from .schedule import Schedule

EPS = 1e-8


def build_layers(w_pre: list, lut, rule: str, sch: Schedule, rng: np.random.Generator) -> tuple[list, dict]:
    """Program the pretrained weights onto the array (5-bit targets, write-and-verify) or into float
    layers. Returns the layers and the transfer statistics."""
    stats = {"verify_reads": 0, "operations": 0, "pulses": 0}
    layers = []
    for w in w_pre:
        w_max = float(np.quantile(np.abs(w), sch.transfer_clip))
        dev = DeviceLayer(lut, w.shape, w_max, sch.levels, sch.read_noise, sch.write_noise)
        if rule == "float":
            layers.append(FloatLayer(w, w_max, dev.pulse_w))
            continue
        n = sch.levels - 1
        target = np.clip(np.rint(w / w_max * n), -n, n) * w_max / n
        for k, val in dev.program(target, rng, sch.max_pulses, sch.transfer_iters).items():
            stats[k] += val
        layers.append(dev)
    return layers, stats


def _sparsity(layers) -> tuple[float, list[float]]:
    per = [float((~l.mask).mean()) for l in layers]
    return float(sum((~l.mask).sum() for l in layers) / msnet.n_weights()), per


def _device_sparsity(layers) -> float | None:
    """Fraction of cells (two per weight) within half a level of G_min: pruned pairs and the idle cell
    of every active pair (device sparsity exceeds weight sparsity)."""
    if not isinstance(layers[0], DeviceLayer):
        return None
    off = sum(int((l.gp - l.lut.g_min < 0.5 * l.g_level).sum() + (l.gn - l.lut.g_min < 0.5 * l.g_level).sum())
              for l in layers)
    return off / (2 * msnet.n_weights())


def _events(sch: Schedule, epoch: int) -> list[tuple[str, float]]:
    ev = [("prune", t) for e, t in zip(sch.prune_epochs, sch.prune_targets) if e == epoch]
    if sch.overprune_epoch == epoch:
        last = max([t for e, t in zip(sch.prune_epochs, sch.prune_targets) if e < epoch], default=0.0)
        ev.append(("overprune", last + sch.overprune_extra))
    if sch.regrow_epoch == epoch:
        ev.append(("regrow", sch.regrow_fraction))
    return ev


def _snapshot(kind: str, layers, **extra) -> dict:
    """Recorder entry: every layer's mask (and, for ``transfer``/``final``, G+ and G-) right now."""
    out = {"kind": kind, "mask": [l.mask.copy() for l in layers], **extra}
    if kind in ("transfer", "final"):
        out.update(gp=[l.gp.copy() for l in layers], gn=[l.gn.copy() for l in layers])
    return out


def _run_events(layers, sch, epoch, momentum, rng, recorder=None) -> tuple[list[str], int]:
    notes, pulses = [], 0
    for kind, value in _events(sch, epoch):
        if kind in ("prune", "overprune"):
            for layer, tgt in zip(layers, sch.layer_targets(value)):
                before = (~layer.mask).sum()
                prune_layer(layer, tgt, rng, reset_pulses=sch.reset_pulses)
                pulses += 2 * sch.reset_pulses * int((~layer.mask).sum() - before) * isinstance(layer, DeviceLayer)
        else:
            for layer, mom in zip(layers, momentum):
                regrow_layer(layer, value, mom, sch.regrow_expansion, rng)
        notes.append(f"{kind} {value:.3f}")
        if recorder is not None:
            recorder.append(_snapshot("regrow" if kind == "regrow" else "prune", layers, epoch=epoch))
    return notes, pulses


def one_thread():
    """Context limiting BLAS to one thread: the matrices are tiny, and threads only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        return contextlib.nullcontext()
    return threadpool_limits(1)


def train(data, lut, rule: str = "vau", sch: Schedule | None = None, seed: int = 0, on_epoch=None,
          recorder: list | None = None) -> dict:
    """Pretrain, transfer and train MSNet on-chip with ``rule`` (one BLAS thread); returns the history
    and summary. ``recorder``: a list receiving the array operations (module docstring; vau rules)."""
    with one_thread():
        return _train(data, lut, rule, sch, seed, on_epoch, recorder)


def _train(data, lut, rule, sch, seed, on_epoch, recorder=None) -> dict:
    if rule not in RULES:
        raise ValueError(f"unknown update rule {rule!r}; choose one of {', '.join(RULES)}")
    sch = sch or Schedule()
    if recorder is not None and (rule not in ("vau", "vau-const") or sch.verify):
        raise ValueError("recording array operations needs a vau rule without write-and-verify")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    w_pre, w_float, records = pretrain(data, sch, rng, on_epoch)
    dense = msnet.accuracy(w_float, data.x_test, data.y_test)
    layers, transfer = build_layers(w_pre, lut, rule, sch, rng)
    if recorder is not None:
        recorder.append(_snapshot("transfer", layers, reset_pulses=sch.reset_pulses, g_min=float(lut.g_min),
                                  g_max=float(lut.g_max), scale=[float(l.scale) for l in layers]))
    m = [np.zeros(l.mask.shape) for l in layers]
    v = [np.zeros(l.mask.shape) for l in layers]
    kw = dict(max_pulses=sch.max_pulses, ridge=sch.ridge, rank1_bits=sch.rank1_bits, verify=sch.verify,
              verify_tol=sch.verify_tol, verify_iters=sch.verify_iters, conflict=sch.vau_conflict,
              stochastic_rounding=sch.vau_stochastic, split=sch.vau_split)
    feedback = sch.vau_feedback and rule in ("vau", "vau-const")
    resid = [np.zeros(l.mask.shape) for l in layers]
    t = 0
    for epoch in range(sch.pretrain_epochs + 1, sch.epochs + 1):
        notes, event_pulses = _run_events(layers, sch, epoch, m, rng, recorder)
        acc = {"operations": 0, "pulses": event_pulses, "index_reads": 0, "index_reads_external": 0,
               "verify_reads": 0, "verify_operations": 0}
        fit_a, fit_all, fit_dense, losses = [], [], [], []
        lr = sch.onchip_lr(epoch)
        for _ in range(sch.steps_per_epoch):
            x = shift_images(data.x_train, sch.augment_shift, rng) if sch.onchip_augment else data.x_train
            loss, grads, _ = msnet.loss_and_grads([l.read(rng) for l in layers], x, data.y_train)
            losses.append(loss)
            t += 1
            for i, (layer, g) in enumerate(zip(layers, grads)):
                m[i] = sch.beta1 * m[i] + (1 - sch.beta1) * g
                g2 = g * g if sch.adam_mode == "element" else np.full(g.shape, np.mean(g[layer.mask] ** 2))
                v[i] = sch.beta2 * v[i] + (1 - sch.beta2) * g2
                mh, vh = m[i] / (1 - sch.beta1 ** t), v[i] / (1 - sch.beta2 ** t)
                want = -lr * layer.pulse_w * mh / (np.sqrt(vh) + EPS)
                if feedback:
                    want = want + np.where(layer.mask, resid[i], 0.0)
                ops = [] if recorder is not None else None
                st = update_layer(layer, want, rule, rng, **kw, record=ops)
                if recorder is not None:
                    recorder.append({"kind": "update", "epoch": epoch, "step": t, "layer": i, "ops": ops})
                if feedback:
                    lim = sch.feedback_clip * layer.pulse_w
                    resid[i] = np.where(layer.mask, np.clip(want - st.pop("intended"), -lim, lim), 0.0)
                for k in acc:
                    acc[k] += st[k]
                if st["fit_error_active"] is not None:
                    fit_a.append(st["fit_error_active"])
                if st["fit_error_all"] is not None:
                    fit_all.append(st["fit_error_all"])
                if st["fit_error_dense"] is not None:
                    fit_dense.append(st["fit_error_dense"])
        sp, per = _sparsity(layers)
        test_w = [l.read(rng) for l in layers]
        rec = {"epoch": epoch, "phase": "onchip", "loss": float(np.mean(losses)),
               "accuracy": msnet.accuracy(test_w, data.x_test, data.y_test),
               "train_accuracy": msnet.accuracy(test_w, data.x_train, data.y_train),
               "sparsity": sp, "layer_sparsity": per, "device_sparsity": _device_sparsity(layers), **acc,
               "fit_error_active": float(np.mean(fit_a)) if fit_a else None,
               "fit_error_all": float(np.mean(fit_all)) if fit_all else None,
               "fit_error_dense": float(np.mean(fit_dense)) if fit_dense else None, "lr": lr, "events": notes}
        records.append(rec)
        if on_epoch:
            on_epoch(rec)
    if recorder is not None:
        recorder.append(_snapshot("final", layers))
    last = records[-1]
    return {"rule": rule, "seed": seed, "final_accuracy": last["accuracy"], "dense_software_accuracy": dense,
            "pretrained_accuracy": records[sch.pretrain_epochs - 1]["accuracy"], "final_sparsity": last["sparsity"],
            "final_layer_sparsity": last["layer_sparsity"], "transfer": transfer,
            "operations_total": int(sum(r["operations"] for r in records)),
            "pulses_total": int(sum(r["pulses"] for r in records)),
            "wall_time_s": time.perf_counter() - t0, "schedule": sch.to_dict(), "epochs": records}
