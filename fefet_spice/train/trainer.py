"""The MSNet training loop: off-chip pretraining, transfer to the array, on-chip sparse training.

Protocols (:data:`.schedule.PROTOCOLS`): ``paper`` (default) pretrains dense in software, programs the
*dense* network and runs every pruning step, over-pruning and regrowth on the array; ``software-pruned``
prunes in software before transfer (pruning-aware fine-tuning, labelled so in the result);
``scratch`` programs the random initial weights and trains every epoch on the array.

On-chip, every epoch runs ``steps_per_epoch`` updates (full batch, or ``onchip_batch`` images of one
shuffled pass each): the array is read (with read noise),
the float backward pass gives the gradient of the effective weights ``S ⊙ W``, Adam turns it into a
desired update of about ``lr`` nominal pulses per step (or ``lr`` x ``step_unit`` of the weight range; the
epoch's step, :meth:`Schedule.onchip_lr`;
second moment per weight or, ``adam_mode="layer"``, one per layer over the active weights), and the
update rule (:mod:`.rules`) turns that into pulses through the LUT, with the sub-pulse part kept in
digital registers (``accumulate``, :mod:`.accumulate`); with ``tiki_taka`` the update goes into a second
array A per layer and rows of A are transferred into the weight array (:mod:`.tikitaka`).
Adam's first moment keeps running on pruned
weights (their gradient exists; the update rules never touch them): it is the gradient momentum that
ranks the regrowth candidates (and, with ``adam_reset="none"``, starts the regrown weights' updates).
With ``adam_reset="events"`` (paper default) both moments and the bias correction restart right after
each pruning, over-pruning and regrowth event (regrowth is ranked before the reset). Pruning, over-pruning and regrowth run at the
start of their epochs; each is bracketed by one array read on the evaluation
images (``accuracy_pruning_events``).

Every run reports what the array did: ``accuracy_after_transfer``, ``accuracy_pruning_events``,
``final_accuracy``, ``accuracy_update_off`` (the same protocol from the same pretraining and the same
transfer noise with the on-chip update skipped: pruning, over-pruning and regrowth still run, regrowth
ranked by the gradient momentum of the epochs just before it; cheap: no update and no per-epoch
evaluation), ``onchip_contribution`` = final - update off, ``onchip_recovery`` = contribution / (dense
software - update off) (None when that is <= 0 or without a software network), ``update_pulses`` (cell
pulses of the on-chip updates, write-and-verify included, pruning resets and transfer excluded),
``prune_reset_pulses`` and ``epochs_fired`` (on-chip epochs whose updates fired at least one pulse; 0
for ``float``, which has no device). The result also holds ``dense_software_accuracy`` (the dense
software network on the same evaluation images). Pure numpy: no IO; progress goes through ``on_epoch``.

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
from .accumulate import LineRegisters, WeightRegisters
from .rules import RULES, update_layer
from .schedule import Schedule
from .tikitaka import TikiTaka

EPS = 1e-8


def build_layers(w_pre: list, lut, rule: str, sch: Schedule, rng: np.random.Generator,
                 array_params=None) -> tuple[list, dict]:
    """Program the pretrained weights onto the array (5-bit targets, write-and-verify) or into float
    layers; with ``array_params`` (a weight FeFET) the cells are that compact model, not the LUT
    (:mod:`.array_layer`). Returns the layers and the transfer statistics."""
    stats = {"verify_reads": 0, "operations": 0, "pulses": 0}
    if array_params is not None:                 # the compact model as the cells (imports the array glue)
        from .array_layer import ArrayDeviceLayer
    layers = []
    for w in w_pre:
        w_max = float(np.quantile(np.abs(w), sch.transfer_clip)) * sch.transfer_range
        dev = (DeviceLayer(lut, w.shape, w_max, sch.levels, sch.read_noise, sch.write_noise)
               if array_params is None or rule == "float"
               else ArrayDeviceLayer(lut, w.shape, w_max, array_params, sch.levels, sch.read_noise, rng=rng))
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


def _events(sch: Schedule, epoch: int, layers) -> list[tuple[str, object]]:
    """Events at the start of ``epoch``: ``(kind, per-layer targets or regrow fraction)``."""
    ev = [("prune", sch.layer_targets(t)) for e, t in zip(sch.prune_epochs, sch.prune_targets) if e == epoch]
    if sch.prune_gradual and not ev:
        for k in range(1, len(sch.prune_epochs)):
            e0, e1 = sch.prune_epochs[k - 1], sch.prune_epochs[k]
            if e0 < epoch < e1:
                t0, t1 = sch.prune_targets[k - 1], sch.prune_targets[k]
                frac = 1 - (1 - (epoch - e0) / (e1 - e0)) ** 3
                ev.append(("prune-gradual", sch.layer_targets(t0 + (t1 - t0) * frac)))
    if sch.overprune_epoch == epoch:
        if sch.overprune_split == "shares":
            last = max([t for e, t in zip(sch.prune_epochs, sch.prune_targets) if e < epoch], default=0.0)
            ev.append(("overprune", sch.layer_targets(last + sch.overprune_extra)))
        elif sch.overprune_split == "global":     # smallest |w| relative to each layer's range, all layers
            rel = np.concatenate([np.abs(l.weights()[l.mask]) / l.w_max for l in layers])
            k = min(int(round(sch.overprune_extra * msnet.n_weights())), rel.size)
            cut = np.sort(rel)[k - 1] if k > 0 else -1.0
            ev.append(("overprune", [(int((~l.mask).sum()) + int((np.abs(l.weights()[l.mask]) / l.w_max <= cut).sum()))
                                     / l.mask.size for l in layers]))
        else:                             # every layer loses the same fraction of its active weights
            active = sum(int(l.mask.sum()) for l in layers)
            f = min(sch.overprune_extra * msnet.n_weights() / max(active, 1), 1.0)
            ev.append(("overprune", [1 - l.mask.mean() * (1 - f) for l in layers]))
    if sch.regrow_epoch == epoch:
        ev.append(("regrow", sch.regrow_fraction))
    return ev


def _snapshot(kind: str, layers, **extra) -> dict:
    """Recorder entry: every layer's mask (and, for ``transfer``/``final``, G+ and G-) right now."""
    out = {"kind": kind, "mask": [l.mask.copy() for l in layers], **extra}
    if kind in ("transfer", "final"):
        out.update(gp=[l.gp.copy() for l in layers], gn=[l.gn.copy() for l in layers])
    return out


def _run_events(layers, sch, epoch, momentum, rng, recorder=None, evaluate=None) -> tuple[list[str], int, list]:
    """Pruning, over-pruning and regrowth at the start of ``epoch``. Returns notes, reset pulses and, per
    event, ``{epoch, kind, before, after}`` accuracies (``evaluate()``: one read of the array)."""
    notes, pulses, acc = [], 0, []
    for kind, value in _events(sch, epoch, layers):
        before = evaluate() if evaluate else None
        if kind in ("prune", "prune-gradual", "overprune"):
            for layer, tgt in zip(layers, value):
                before_n = (~layer.mask).sum()
                prune_layer(layer, tgt, rng, reset_pulses=sch.reset_pulses)
                pulses += 2 * sch.reset_pulses * int((~layer.mask).sum() - before_n) * isinstance(layer, DeviceLayer)
            notes.append(f"{kind} {_sparsity(layers)[0]:.3f}")
        else:
            for layer, mom in zip(layers, momentum):
                regrow_layer(layer, value, mom, sch.regrow_expansion, rng)
            notes.append(f"{kind} {value:.3f}")
        if evaluate:
            acc.append({"epoch": epoch, "kind": kind, "before": before, "after": evaluate()})
        if recorder is not None:
            recorder.append(_snapshot("regrow" if kind == "regrow" else "prune", layers, epoch=epoch))
    return notes, pulses, acc


def one_thread():
    """Context limiting BLAS to one thread: the matrices are tiny, and threads only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        return contextlib.nullcontext()
    return threadpool_limits(1)


def train(data, lut, rule: str = "vau", sch: Schedule | None = None, seed: int = 0, on_epoch=None,
          recorder: list | None = None, update_off: bool = True, array_params=None) -> dict:
    """Pretrain (unless ``scratch``), transfer and train MSNet on-chip with ``rule`` (one BLAS thread);
    returns the history and summary. ``recorder``: a list receiving the array operations (module
    docstring; vau rules). ``update_off``: also run the same protocol with the on-chip update switched
    off (same pretraining, same transfer noise; pruning, over-pruning and regrowth still applied) for
    ``accuracy_update_off`` and ``onchip_contribution``. ``array_params``: a weight FeFET
    (``FeFETParams``) whose compact model replaces the LUT as the cells (the LUT still chooses the pulse
    counts; :mod:`.array_layer`); the result's ``device_model`` says which."""
    with one_thread():
        return _train(data, lut, rule, sch, seed, on_epoch, recorder, update_off, array_params)


def _device_model(array_params, rule: str) -> str:
    if array_params is None or rule == "float":
        return "lut"
    from .array_layer import has_variation

    return f"array:{array_params.name}" + ("+variation" if has_variation(array_params) else "")


def _train(data, lut, rule, sch, seed, on_epoch, recorder=None, update_off=True, array_params=None) -> dict:
    if rule not in RULES:
        raise ValueError(f"unknown update rule {rule!r}; choose one of {', '.join(RULES)}")
    sch = sch or Schedule()
    if recorder is not None and (rule not in ("vau", "vau-const") or sch.verify
                                 or sch.accumulate.startswith("weight")):
        raise ValueError("recording array operations needs a vau rule without write-and-verify or weight registers")
    if sch.accumulate != "none" and rule == "vau" and not sch.vau_split:
        raise ValueError("digital accumulation (accumulate) needs the polarity-split vau (vau_split)")
    if sch.tiki_taka and (rule == "float" or recorder is not None or array_params is not None):
        raise ValueError("tiki_taka needs a device rule (not float), no recorder and the LUT as the device")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    if sch.protocol == "scratch":
        w_pre, w_float, records = msnet.init_weights(rng), None, []
    else:
        w_pre, w_float, records = pretrain(data, sch, rng, on_epoch)
    dense = msnet.accuracy(w_float, data.x_test, data.y_test) if w_float is not None else None
    state = rng.bit_generator.state
    main = onchip(data, lut, rule, sch, w_pre, rng, on_epoch, recorder, array_params=array_params)
    records += main.pop("records")
    last = records[-1]
    out = {"rule": rule, "seed": seed, "protocol": sch.protocol,
           "software_pruning": sch.protocol == "software-pruned", **main,
           "device_model": _device_model(array_params, rule),
           "final_accuracy": last["accuracy"], "dense_software_accuracy": dense,
           "pretrained_accuracy": records[sch.pretrain_epochs - 1]["accuracy"] if w_float is not None else None,
           "final_sparsity": last["sparsity"], "final_layer_sparsity": last["layer_sparsity"],
           "operations_total": int(sum(r["operations"] for r in records)),
           "pulses_total": int(sum(r["pulses"] for r in records))}
    out["accuracy_update_off"] = out["onchip_contribution"] = out["onchip_recovery"] = None
    if update_off:
        rng_off = np.random.default_rng(seed)
        rng_off.bit_generator.state = state
        off = onchip(data, lut, rule, sch, w_pre, rng_off, update=False, array_params=array_params)
        out.update(accuracy_update_off=off["final_accuracy_off"], accuracy_pruning_events_update_off=
                   off["accuracy_pruning_events"], onchip_contribution=out["final_accuracy"] - off["final_accuracy_off"])
        den = None if dense is None else dense - off["final_accuracy_off"]
        out["onchip_recovery"] = out["onchip_contribution"] / den if den is not None and den > 0 else None
    out.update(wall_time_s=time.perf_counter() - t0, schedule=sch.to_dict(), epochs=records)
    return out


def _registers(layers, rule, sch) -> list:
    """One set of :mod:`.accumulate` registers per layer (or None per layer)."""
    if rule not in ("vau", "cell") or sch.accumulate == "none" or (rule == "cell" and sch.accumulate == "lines"):
        return [None] * len(layers)
    if sch.accumulate == "lines":
        return [LineRegisters(l.mask.shape, sch.max_pulses) for l in layers]
    device = sch.accumulate == "weight-device" or rule == "cell"        # cell always picks its count by the LUT
    return [WeightRegisters(l.mask.shape, sch.max_pulses, device_aware=device) for l in layers]


REGROW_WINDOW = 2
"""With the update off, gradients (for the regrowth's momentum ranking) are computed only in the epochs
this close before the regrowth epoch: with beta1 = 0.9 older steps weigh < 0.9^10 [epochs]."""


def onchip(data, lut, rule, sch, w_pre, rng, on_epoch=None, recorder=None, update: bool = True,
           array_params=None) -> dict:
    """Transfer ``w_pre`` and run the on-chip epochs. With ``update`` False the on-chip update is
    skipped (no pulses; pruning, over-pruning and regrowth still run, regrowth ranked by the momentum
    of the gradients of the epochs just before it) and only the event and final accuracies are read."""
    layers, transfer = build_layers(w_pre, lut, rule, sch, rng, array_params)
    tt = TikiTaka(layers, lut, sch) if update and sch.tiki_taka else None

    def net():
        return tt.weights(layers, rng) if tt else [l.read(rng) for l in layers]

    def evaluate():
        return msnet.accuracy(net(), data.x_test, data.y_test)

    after_transfer = evaluate()
    if recorder is not None:
        recorder.append(_snapshot("transfer", layers, reset_pulses=sch.reset_pulses, g_min=float(lut.g_min),
                                  g_max=float(lut.g_max), scale=[float(l.scale) for l in layers]))
    m = [np.zeros(l.mask.shape) for l in layers]
    v = [np.zeros(l.mask.shape) for l in layers]
    regs = _registers(layers, rule, sch)
    kw = dict(max_pulses=sch.max_pulses, ridge=sch.ridge, rank1_bits=sch.rank1_bits, verify=sch.verify,
              verify_tol=sch.verify_tol, verify_iters=sch.verify_iters, conflict=sch.vau_conflict,
              stochastic_rounding=sch.vau_stochastic, split=sch.vau_split)
    feedback = sch.vau_feedback and rule in ("vau", "vau-const")
    resid = [np.zeros(l.mask.shape) for l in layers]
    t, records, events_acc, update_pulses, reset_pulses, fired = 0, [], [], 0, 0, 0
    for epoch in range(sch.first_onchip_epoch, sch.epochs + 1):
        before_masks = [l.mask.copy() for l in layers]
        notes, event_pulses, ev = _run_events(layers, sch, epoch, m, rng, recorder, evaluate)
        if tt and notes:                              # A follows C's pruning and regrowth
            event_pulses += tt.sync_masks(layers, rng)
        if notes and sch.adam_reset == "events":      # moments and bias correction restart
            m, v, t = [np.zeros(l.mask.shape) for l in layers], [np.zeros(l.mask.shape) for l in layers], 0
        elif notes and sch.adam_reset == "regrown":
            m = [np.where(l.mask & ~b, 0.0, mi) for l, b, mi in zip(layers, before_masks, m)]
        events_acc += ev
        reset_pulses += event_pulses
        acc = {"operations": 0, "pulses": event_pulses, "index_reads": 0, "index_reads_external": 0,
               "verify_reads": 0, "verify_operations": 0}
        fit_a, fit_all, fit_dense, losses, epoch_pulses = [], [], [], [], 0
        lr = sch.onchip_lr(epoch)
        grads_needed = update or (0 < sch.regrow_epoch - epoch <= REGROW_WINDOW)
        order = rng.permutation(len(data.y_train)) if sch.onchip_batch else None
        for step in range(sch.steps_per_epoch if grads_needed else 0):
            x, y = data.x_train, data.y_train
            if order is not None:                     # consecutive mini-batches of one shuffled pass
                idx = np.take(order, range(step * sch.onchip_batch, (step + 1) * sch.onchip_batch), mode="wrap")
                x, y = x[idx], y[idx]
            x = shift_images(x, sch.augment_shift, rng) if sch.onchip_augment else x
            loss, grads, _ = msnet.loss_and_grads(net(), x, y)
            losses.append(loss)
            t += 1
            for i, (layer, g) in enumerate(zip(layers, grads)):
                m[i] = sch.beta1 * m[i] + (1 - sch.beta1) * g
                if not update:
                    continue
                g2 = g * g if sch.adam_mode == "element" else np.full(g.shape, np.mean(g[layer.mask] ** 2))
                v[i] = sch.beta2 * v[i] + (1 - sch.beta2) * g2
                mh, vh = m[i] / (1 - sch.beta1 ** t), v[i] / (1 - sch.beta2 ** t)
                want = -lr * (sch.step_unit * layer.w_max or layer.pulse_w) * mh / (np.sqrt(vh) + EPS)
                if feedback:
                    want = want + np.where(layer.mask, resid[i], 0.0)
                ops = [] if recorder is not None else None
                st = (tt.update(i, layer, want, rule, rng, acc=regs[i], **kw) if tt else
                      update_layer(layer, want, rule, rng, **kw, record=ops, acc=regs[i]))
                if recorder is not None:
                    recorder.append({"kind": "update", "epoch": epoch, "step": t, "layer": i, "ops": ops})
                if feedback:
                    lim = sch.feedback_clip * layer.pulse_w
                    resid[i] = np.where(layer.mask, np.clip(want - st.pop("intended"), -lim, lim), 0.0)
                epoch_pulses += st["pulses"]
                for k in acc:
                    acc[k] += st[k]
                for store, key in ((fit_a, "fit_error_active"), (fit_all, "fit_error_all"),
                                   (fit_dense, "fit_error_dense")):
                    if st[key] is not None:
                        store.append(st[key])
        update_pulses += epoch_pulses
        fired += epoch_pulses > 0
        if not update:
            continue
        sp, per = _sparsity(layers)
        test_w = net()
        rec = {"epoch": epoch, "phase": "onchip", "loss": float(np.mean(losses)),
               "accuracy": msnet.accuracy(test_w, data.x_test, data.y_test),
               "train_accuracy": msnet.accuracy(test_w, data.x_train, data.y_train),
               "sparsity": sp, "layer_sparsity": per, "device_sparsity": _device_sparsity(layers), **acc,
               "update_pulses": epoch_pulses,
               "fit_error_active": float(np.mean(fit_a)) if fit_a else None,
               "fit_error_all": float(np.mean(fit_all)) if fit_all else None,
               "fit_error_dense": float(np.mean(fit_dense)) if fit_dense else None, "lr": lr, "events": notes}
        records.append(rec)
        if on_epoch:
            on_epoch(rec)
    if recorder is not None:
        recorder.append(_snapshot("final", layers))
    out = {"accuracy_after_transfer": after_transfer, "accuracy_pruning_events": events_acc,
           "update_pulses": int(update_pulses), "prune_reset_pulses": int(reset_pulses), "epochs_fired": int(fired),
           "transfer": transfer, "registers": sum(r.size for r in regs if r is not None)}
    if tt:
        out["tiki_taka"] = dict(tt.stats)
    if update:
        out["records"] = records
    else:
        out["final_accuracy_off"] = evaluate()
    return out
