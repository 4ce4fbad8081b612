"""Update rules: turn the desired update of one layer (from Adam) into pulses on the array.

=============  ==========================================================  =================
rule           what reaches the cells                                      operations/update
=============  ==========================================================  =================
``float``      the exact update (software baseline, :class:`FloatLayer`)   0
``cell``       per cell, the count whose mean LUT path lands closest        M * N (with weight
               registers: the accumulated update, one write per firing cell)
``vau``        masked ridge fit ``r 1ᵀ + 1 cᵀ`` on active cells, rounded    N + 1
``vau-const``  closed-form fit over all cells (constant A), rounded         N + 1
``manhattan``  one pulse of sign(ΔW) per active cell                        M * N
``rank1``      stochastic pulse coincidence of the rank-1 part of ΔW        bit length
=============  ==========================================================  =================

``rank1`` follows Gokmen & Vlasov 2016 (DOI 10.3389/fnins.2016.00333): rows and columns fire
Bernoulli pulse streams of ``bits`` slots with probabilities ``p_i ∝ |u_i|``, ``q_j ∝ |v_j|`` so that the
expected coincidence count ``bits p_i q_j`` equals the leading singular term ``σ |u_i v_j|`` of the
desired update (in pulses); a coincidence fires one pulse of sign ``sign(u_i v_j)``. Full-batch Adam
updates are not outer products, so only their rank-1 part is applied.
Index reads: an index-free array reads none; ``index_reads_external`` counts what an element-wise sparse
design with an external index would read (one per active weight).
"""
from __future__ import annotations

import numpy as np

from . import vau
from .accumulate import LineRegisters, WeightRegisters

RULES = ("float", "cell", "vau", "vau-const", "manhattan", "rank1")


def _stats(layer, ops: int, pulses: int, err=(None, None, None)) -> dict:
    return {"operations": int(ops), "pulses": int(pulses), "fit_error_active": err[0],
            "fit_error_all": err[1], "fit_error_dense": err[2], "index_reads": 0,
            "index_reads_external": int(layer.mask.sum()),
            "verify_reads": 0, "verify_operations": 0}


def _nan_to_none(x: float):
    return None if not np.isfinite(x) else float(x)


GAUGE = np.linspace(-1.5, 1.5, 31)
"""Shifts k tried for the free gauge ``(r + k, c - k)`` before rounding [pulses]."""


def _vau_counts(d: np.ndarray, mask: np.ndarray, rule: str, ridge: float, max_pulses: int,
                conflict: float = 1.0, rng: np.random.Generator | None = None):
    """Fit, then pick the gauge shift k whose rounded, clipped operators minimize the squared error on
    the active cells plus ``conflict`` per pair of opposing pulses (an up and a down pulse that cancel
    only nominally: on an asymmetric device they drift the cell)."""
    r, c = vau.fit_masked(d, mask, ridge) if rule == "vau" else vau.fit_constant(d)
    rr, cc = _round_operators(d, mask, r, c, max_pulses, conflict, rng)
    err = (*vau.fit_errors(d, mask, vau.compose(r, c)), vau.fit_error_dense(d, mask, vau.compose(r, c)))
    return rr, cc, tuple(_nan_to_none(e) for e in err)


def _round_operators(d, mask, r, c, max_pulses, conflict, rng):
    """Integer pulse counts for the operators: best gauge shift, then nearest or stochastic rounding."""
    rr = np.clip(np.rint(r[None, :] + GAUGE[:, None]), -max_pulses, max_pulses)      # (K, M)
    cc = np.clip(np.rint(c[None, :] - GAUGE[:, None]), -max_pulses, max_pulses)      # (K, N)
    a, b = rr[:, :, None], cc[:, None, :]
    waste = np.where(a * b < 0, np.minimum(np.abs(a), np.abs(b)), 0.0)
    cost = (np.where(mask, (d - a - b) ** 2 + conflict * waste, 0.0)).sum(axis=(1, 2))
    best = int(np.argmin(cost + 1e-9 * np.abs(GAUGE)))
    if rng is not None:                       # stochastic rounding of the shifted operators (unbiased)
        def sround(x):
            return np.clip(np.floor(x + rng.random(x.shape)), -max_pulses, max_pulses)
        rr, cc = sround(r + GAUGE[best])[None], sround(c - GAUGE[best])[None]
        best = 0
    return rr[best].astype(np.int64), cc[best].astype(np.int64)


def combine_sides(a_plus: np.ndarray, a_minus: np.ndarray, plus: np.ndarray, minus: np.ndarray) -> np.ndarray:
    """Weight-direction change of a pair when the G+ array gets ``a_plus`` and the G- array ``a_minus``:
    the responding cell's count; a pair near zero (both respond, the other cell at G_min) moves by the
    potentiating part of each; cells in neither set (pruned) get the mean (reported fit only)."""
    both = plus & minus
    near = np.maximum(a_plus, 0) + np.minimum(a_minus, 0)
    return np.where(both, near, np.where(plus, a_plus, np.where(minus, a_minus, 0.5 * (a_plus + a_minus))))


def _note(record, step: str, layer, n_plus, n_minus) -> None:
    """Append one fire of weight-direction operators to ``record`` (the recorder hook, see
    :func:`update_layer`): the step (``col`` or ``row``), the G+ and G- operators and the responding
    cells of each side at that moment (:meth:`DeviceLayer.sides`)."""
    if record is not None:
        record.append((step, np.array(n_plus, dtype=np.int64), np.array(n_minus, dtype=np.int64), *layer.sides()))


def _vau_split(layer, d, ridge, max_pulses, conflict, rng, stochastic, record=None, acc=None):
    """Polarity-split VAU: the G+ and G- arrays (own bit and data lines) get their own masked fits, each
    over the pairs whose cell in that array responds, fired in the same N + 1 steps. ``acc``: the
    layer's :class:`.accumulate.LineRegisters` (the fits accumulate; whole pulses fire) or
    :class:`.accumulate.WeightRegisters` (returns the per-cell counts to fire cell by cell)."""
    m, n = d.shape
    plus, minus = layer.sides()
    ops, cont = [], []

    def rounder(dd, sel, r, c):
        return _round_operators(dd, sel, r, c, max_pulses, conflict, rng if stochastic else None)

    for side, sel in enumerate((plus, minus)):
        r, c = vau.fit_masked(d, sel, ridge)
        if isinstance(acc, LineRegisters):
            ops.append(acc.add_and_fire(side, r, c, sel, rounder))
        elif acc is None:
            ops.append(rounder(d, sel, r, c))
        cont.append(vau.compose(r, c))
    approx = combine_sides(*cont, plus, minus)
    err = (*vau.fit_errors(d, layer.mask, approx), vau.fit_error_dense(d, layer.mask, approx))
    if isinstance(acc, WeightRegisters):
        counts = (acc.add_and_fire_device(layer, approx, max_pulses) if acc.device_aware
                  else acc.add_and_fire(approx, layer.mask))
        return layer.apply(counts, rng), counts.astype(float), tuple(_nan_to_none(e) for e in err), \
            int(np.count_nonzero(counts))
    (rp, cp), (rm, cm) = ops
    intended = combine_sides(vau.compose(rp, cp), vau.compose(rm, cm), plus, minus)
    _note(record, "col", layer, cp, cm)
    pulses = layer.apply_pair(np.broadcast_to(cp[None, :], (m, n)), np.broadcast_to(cm[None, :], (m, n)), rng)
    _note(record, "row", layer, rp, rm)
    pulses += layer.apply_pair(np.broadcast_to(rp[:, None], (m, n)), np.broadcast_to(rm[:, None], (m, n)), rng)
    return pulses, intended, tuple(_nan_to_none(e) for e in err), n + 1


def _rank1_counts(d: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    u, s, vt = np.linalg.svd(d, full_matrices=False)
    sigma, u, v = s[0], u[:, 0], vt[0]
    if sigma <= 0:
        return np.zeros(d.shape, dtype=np.int64)
    bal = np.sqrt(np.abs(v).max() / max(np.abs(u).max(), 1e-300))
    p = np.minimum(np.abs(u) * np.sqrt(sigma / bits) * bal, 1.0)
    q = np.minimum(np.abs(v) * np.sqrt(sigma / bits) / bal, 1.0)
    rows = rng.random((d.shape[0], bits)) < p[:, None]
    cols = rng.random((d.shape[1], bits)) < q[:, None]
    hits = rows.astype(np.int64) @ cols.T.astype(np.int64)
    return hits * np.sign(np.outer(u, v)).astype(np.int64)


def update_layer(layer, delta_w: np.ndarray, rule: str, rng: np.random.Generator, *, max_pulses: int = 8,
                 ridge: float = 1e-3, rank1_bits: int = 16, verify: bool = False,
                 verify_tol: float = 0.5, verify_iters: int = 3, conflict: float = 1.0,
                 stochastic_rounding: bool = False, split: bool = False, record: list | None = None,
                 acc=None) -> dict:
    """Apply the desired update ``delta_w`` (M, N) [weight units] to ``layer`` with ``rule``.

    Pruned cells (S = 0) never change. Returns per-update statistics: operations of the rule, cell
    pulses (including write-and-verify), verify reads and verify (cell-wise) operations, VAU fit
    error (pulse units, relative) on active cells and on all cells, index reads, verify reads, and
    ``intended``: the nominal update the rule meant to apply [weight units] (for error feedback).
    ``record`` (vau rules only; None: off): a list that receives one ``(step, n_plus, n_minus, plus,
    minus)`` tuple per fire, in order: the weight-direction operators of the G+ and G- cells (the G-
    cell gets ``-n_minus``) and the responding cells of each side (:mod:`fefet_spice.array.replay`).
    ``acc`` (split ``vau`` only; None: off): the layer's registers of :mod:`.accumulate` (digital
    accumulation of sub-pulse updates); with weight registers the operations are the firing cells.
    """
    if rule not in RULES:
        raise ValueError(f"unknown update rule {rule!r}; choose one of {', '.join(RULES)}")
    m, n = delta_w.shape
    if rule == "float":
        layer.add(delta_w)
        return {**_stats(layer, 0, 0), "intended": delta_w}
    d = delta_w / layer.pulse_w
    mask = layer.mask
    w_before = layer.weights()
    if acc is not None and not ((rule == "vau" and split) or (rule == "cell" and isinstance(acc, WeightRegisters))):
        raise ValueError("digital accumulation needs the polarity-split vau rule (or weight registers with cell)")
    if isinstance(acc, WeightRegisters) and record is not None:
        raise ValueError("recording array operations needs line registers or none (weight registers write "
                         "cell by cell)")
    if rule == "vau" and split:
        pulses, intended, err, ops = _vau_split(layer, d, ridge, max_pulses, conflict, rng, stochastic_rounding,
                                                record, acc)
        stats = _stats(layer, ops, pulses, err)
        intended = intended * layer.pulse_w
    elif rule in ("vau", "vau-const"):
        rr, cc, err = _vau_counts(d, mask, rule, ridge, max_pulses, conflict,
                                  rng if stochastic_rounding else None)
        _note(record, "col", layer, cc, cc)
        pulses = layer.apply(np.broadcast_to(cc[None, :], (m, n)), rng)    # step 1: N column cycles
        _note(record, "row", layer, rr, rr)
        pulses += layer.apply(np.broadcast_to(rr[:, None], (m, n)), rng)   # step 2: one row cycle
        stats = _stats(layer, n + 1, pulses, err)
        intended = vau.compose(rr, cc) * layer.pulse_w
    else:
        if rule == "cell" and acc is not None:        # per-weight register: the desired update accumulates
            counts = acc.add_and_fire_device(layer, d, max_pulses)
            intended = counts * layer.pulse_w
            ops = int(np.count_nonzero(counts))
        elif rule == "cell":
            counts = layer.cell_counts(delta_w, max_pulses)
            intended = delta_w
            ops = m * n
        elif rule == "manhattan":
            counts = np.sign(d).astype(np.int64)
            intended = counts * layer.pulse_w
            ops = m * n
        else:
            counts = np.clip(_rank1_counts(d, rank1_bits, rng), -max_pulses, max_pulses)
            intended = counts * layer.pulse_w
            ops = rank1_bits
        stats = _stats(layer, ops, layer.apply(np.where(mask, counts, 0), rng))
    if verify:
        target = np.clip(w_before + np.where(mask, intended, 0.0), -layer.w_max, layer.w_max)
        v = layer.program(target, rng, max_pulses=max_pulses, iters=verify_iters, tol_levels=verify_tol)
        stats["verify_operations"] = v["operations"]
        stats["pulses"] += v["pulses"]
        stats["verify_reads"] = v["verify_reads"]
    stats["intended"] = intended
    return stats
