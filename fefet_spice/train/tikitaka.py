"""Tiki-Taka: gradient updates into a fast array A, periodic transfer of A's rows into the weight array C.

Gokmen & Haensch 2020 (DOI 10.3389/fnins.2020.00103): every layer has a second crossbar A beside its
weight array C. The on-chip update (the rule of :mod:`.rules` with its digital registers, every pulse
through the LUT with its noise) goes into A, not C. Every ``tt_every`` updates of a layer, the next
``tt_rows`` fraction of A's rows (cyclic) is read: one forward pass per row with a one-hot input on
that row's input line (our layers are (M fan-in rows, N output columns), so a one-hot input reads the
N weights of one row, as the paper's one-hot read of a column of its (out, in) matrix), with read noise.
A pulse-quantized fraction of what was read, ``round(tt_lr * a / pulse_C)`` pulses per weight (clipped to
``max_pulses``), is fired into the same row of C through the LUT (one row-parallel write per row: the
row line selected, each column line carries its count).

Decay of A. The paper's A needs no reset: its device drifts to a symmetry point at zero under pulses.
A sign-magnitude FeFET pair has none (zero is both cells at G_min, where potentiation is strong and
depression weak), so A decays explicitly: after a transfer, both cells of every read pair that moved C
are depressed towards G_min so that the pair keeps ``1 - tt_decay * moved / a`` of its value (``moved``
= what C received / ``tt_lr``, in A's units; clipped to [0, 1]): a value below half a C pulse stays in A
and keeps accumulating. The depression counts follow the LUT's mean path from each cell's state (as the
``cell`` rule's counts; the two cells' conductances are counted as ``cell_reads``), clipped to
``reset_pulses``. ``tt_decay`` 0: no decay (A integrates for ever). The network's weights are
``C + tt_gamma * A`` (``tt_gamma`` 0: C alone, the default of aihwkit's ``TransferCompound``); A's pairs
span ``tt_range`` x C's weight range.

Pruned cells: A shares C's sparsity mask (a pair pruned in C is masked off in A too: never read, never
pulsed); a pair regrown in C is reset to G_min in A (``reset_pulses`` per cell, counted with the
pruning resets) before its bit goes on again. Counting: every pulse on A (updates, decay) and on C
(transfer) is an update pulse; every row write is an operation; :attr:`TikiTaka.stats` holds the
breakdown, ``reads`` (one-hot row reads) and ``weights_read``. Pure numpy, seeded through the caller's
Generator.
"""
from __future__ import annotations

import math

import numpy as np

from .device import DeviceLayer
from .rules import update_layer


def _depression_counts(layer: DeviceLayer, g: np.ndarray, keep: np.ndarray, clip: int) -> np.ndarray:
    """Depression pulses (>= 0, <= ``clip``) whose mean LUT path takes each cell at ``g`` [S] closest to
    ``g_min + keep (g - g_min)`` (the cell rule's count, :meth:`.DeviceLayer.cell_counts`)."""
    lut = layer.lut
    target = lut.g_min + keep * (g - lut.g_min)
    best, err, gk = np.zeros(g.shape, dtype=np.int64), np.abs(g - target), g.copy()
    for k in range(1, clip + 1):
        gk = layer._mean_step(gk, np.full(gk.shape, -1))
        e = np.abs(gk - target)
        better = e < err - 1e-18
        best[better], err[better] = k, e[better]
        if not better.any() and np.all(gk <= target):
            break
    return best


class TikiTaka:
    """The A arrays of one network, their update counters and row pointers, and the transfer counts."""

    def __init__(self, layers: list, lut, sch):
        if not all(isinstance(l, DeviceLayer) for l in layers):
            raise ValueError("Tiki-Taka needs device layers (an update rule other than float)")
        self.sch = sch
        self.a = []
        for c in layers:
            a = DeviceLayer(lut, c.mask.shape, sch.tt_range * c.w_max, sch.levels, sch.read_noise, sch.write_noise)
            a.mask = c.mask.copy()
            self.a.append(a)
        self.count = [0] * len(layers)
        self.row = [0] * len(layers)
        self.stats = {"a_update_pulses": 0, "transfer_pulses": 0, "decay_pulses": 0, "a_reset_pulses": 0,
                      "transfers": 0, "reads": 0, "weights_read": 0, "cell_reads": 0, "row_writes": 0}

    def weights(self, layers: list, rng: np.random.Generator) -> list[np.ndarray]:
        """The network's weights as a MAC sees them: C read, plus ``tt_gamma`` x A read."""
        if self.sch.tt_gamma == 0:
            return [c.read(rng) for c in layers]
        return [c.read(rng) + self.sch.tt_gamma * a.read(rng) for c, a in zip(layers, self.a)]

    def sync_masks(self, layers: list, rng: np.random.Generator) -> int:
        """After pruning / regrowth in C: prune (reset to G_min) or regrow the same pairs of A. Returns
        the reset pulses fired on A."""
        pulses = 0
        for c, a in zip(layers, self.a):
            a.mask &= c.mask                          # pruned: masked off (never read, never pulsed)
            back = c.mask & ~a.mask
            if back.any():                            # regrown: A's pair reset to G_min, then unmasked
                a.mask |= back
                pulses += a.prune(back, rng, reset_pulses=self.sch.reset_pulses)
                a.regrow(back)
        self.stats["a_reset_pulses"] += pulses
        return pulses

    def update(self, i: int, c: DeviceLayer, want: np.ndarray, rule: str, rng: np.random.Generator,
               acc=None, **kw) -> dict:
        """One update of layer ``i``: ``want`` [weight units] into A with ``rule`` (and A's registers
        ``acc``), then, every ``tt_every`` updates, a transfer of A's next rows into C. Returns the
        rule's statistics with the transfer's pulses and row writes added."""
        a = self.a[i]
        st = update_layer(a, want, rule, rng, **kw, acc=acc)
        self.stats["a_update_pulses"] += st["pulses"]
        self.count[i] += 1
        if self.count[i] % self.sch.tt_every == 0:
            pulses, writes = self.transfer(i, c, rng)
            st["pulses"] += pulses
            st["operations"] += writes
        return st

    def transfer(self, i: int, c: DeviceLayer, rng: np.random.Generator) -> tuple[int, int]:
        """Read A's next rows of layer ``i`` (one-hot reads), fire the quantized fraction into C's rows,
        decay A's rows. Returns (pulses fired on C and A, row writes)."""
        a, sch = self.a[i], self.sch
        m = a.mask.shape[0]
        k = min(m, max(1, math.ceil(sch.tt_rows * m)))
        rows = (self.row[i] + np.arange(k)) % m
        self.row[i] = int((self.row[i] + k) % m)
        read = a.read(rng)[rows]                      # what the k one-hot forward passes return
        self.stats["reads"] += k
        self.stats["weights_read"] += int(a.mask[rows].sum())
        self.stats["transfers"] += 1
        n_c = np.zeros(a.mask.shape, dtype=np.int64)
        n_c[rows] = np.clip(np.rint(sch.tt_lr * read / c.pulse_w), -sch.max_pulses, sch.max_pulses)
        pc = c.apply(n_c, rng)
        pa = 0
        if sch.tt_decay > 0:                          # decay: both cells of the read pairs towards G_min
            sel = np.zeros(a.mask.shape, dtype=bool)
            sel[rows] = True
            sel &= a.mask
            moved = n_c[sel] * c.pulse_w / sch.tt_lr       # what C received, in A's weight units / tt_lr
            r = read[sel[rows]]
            keep = np.clip(1 - sch.tt_decay * np.divide(moved, r, out=np.zeros_like(r), where=r != 0), 0, 1)
            counts = np.zeros((2,) + a.mask.shape, dtype=np.int64)
            for side, g in enumerate((a.gp, a.gn)):
                counts[side][sel] = -_depression_counts(a, g[sel], keep, sch.reset_pulses)
            self.stats["cell_reads"] += 2 * int(sel.sum())
            pa = a._fire(counts, rng)
        self.stats["transfer_pulses"] += pc
        self.stats["decay_pulses"] += pa
        writes = int(np.count_nonzero(np.where(c.mask, n_c, 0)[rows].any(axis=1)))
        if pa:
            writes += int(np.count_nonzero(counts[:, rows].any(axis=(0, 2))))
        self.stats["row_writes"] += writes
        return pc + pa, writes
