"""The array network of :func:`fefet_spice.spice.array.array_deck` as index arrays (issue 18).

Same elements and values as the deck: line segments ``r_line`` and line capacitances on BL, DIL, DOL
taps, floating SPL (line capacitance, leak, pre-charge conductance 1e-3 S until ``t_pre``), floating
DILs where the schedule says so, internal gate/mid nodes (``c_line``, ``r_leak``), per FeFET the gate
capacitance half to drain and half to source and the channel with its contact resistance (two R/2 in
series; the deck's internal drain/source nodes are eliminated per device by the solver, see
:func:`fefet_spice.model.channel.drain_current`, so they are no unknowns here). Every node is one index of a global vector; node 0 is
ground; source nodes (driven lines) are *fixed*. Built once per array with numpy index arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..array.schedule import Schedule
from .array import ArrayConfig
from .device import SpiceDevice

G_PRE = 1e-3
"""Pre-charge conductance of a floating SPL until ``t_pre`` [S] (the deck's ``Bpre`` source)."""


@dataclass(frozen=True)
class FeFETSet:
    """The FeFETs of one kind (weight or sparsity), one per cell, as node indices (C,)."""

    dev: SpiceDevice
    d: np.ndarray
    g: np.ndarray
    s: np.ndarray


@dataclass(frozen=True)
class Network:
    """Linear part (conductance and capacitance matrices over all nodes), sources and FeFETs."""

    n_nodes: int
    fixed: np.ndarray
    """Node indices held by sources (ground first)."""
    bl: np.ndarray
    dil: np.ndarray
    dol: np.ndarray
    spl: np.ndarray
    g_lin: sp.csr_matrix
    c_lin: sp.csr_matrix
    weight: FeFETSet
    sparsity: FeFETSet
    pre: np.ndarray
    """Floating SPL nodes that the pre-charge conductance pulls to ``v_spl_pre`` (empty if SPL is driven)."""


class _Builder:
    def __init__(self):
        self.n = 1  # node 0 = ground
        self.g: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.c: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def nodes(self, *shape: int) -> np.ndarray:
        count = int(np.prod(shape))
        out = np.arange(self.n, self.n + count).reshape(shape)
        self.n += count
        return out

    def add(self, kind: list, a, b, value) -> None:
        a, b = np.broadcast_arrays(np.ravel(a), np.ravel(b))
        kind.append((a, b, np.broadcast_to(np.asarray(value, dtype=float), a.shape)))

    def matrix(self, kind: list) -> sp.csr_matrix:
        if not kind:
            return sp.csr_matrix((self.n, self.n))
        a = np.concatenate([k[0] for k in kind])
        b = np.concatenate([k[1] for k in kind])
        v = np.concatenate([k[2] for k in kind])
        rows = np.concatenate([a, b, a, b])
        cols = np.concatenate([a, b, b, a])
        data = np.concatenate([v, v, -v, -v])
        return sp.coo_matrix((data, (rows, cols)), shape=(self.n, self.n)).tocsr()


def _line(b: _Builder, src: np.ndarray, count: int, cfg: ArrayConfig) -> np.ndarray:
    """Taps (L, count) of lines fed at ``src`` (L,): a chain of r_line segments, c_line per tap."""
    if cfg.r_line == 0.0:
        b.add(b.c, src, 0, cfg.c_line * count)
        return np.repeat(src[:, None], count, axis=1)
    taps = b.nodes(len(src), count)
    prev = np.concatenate([src[:, None], taps[:, :-1]], axis=1)
    b.add(b.g, prev, taps, 1.0 / cfg.r_line)
    b.add(b.c, taps, 0, cfg.c_line)
    return taps


def _fefets(b: _Builder, dev: SpiceDevice, d, g, s) -> FeFETSet:
    d, g, s = (np.ravel(x) for x in np.broadcast_arrays(d, g, s))
    cg = 0.5 * dev.gate_capacitance
    b.add(b.c, g, d, cg)
    b.add(b.c, g, s, cg)
    return FeFETSet(dev, d, g, s)


def build(wdev: SpiceDevice, sdev: SpiceDevice, m: int, n: int, sched: Schedule, cfg: ArrayConfig) -> Network:
    """The network of an M x N array under ``sched`` (which lines float) in ``cfg``."""
    b = _Builder()
    bl, dil, dol, spl = b.nodes(m), b.nodes(m), b.nodes(n), b.nodes(m)
    fixed = [np.array([0]), bl, dol]
    if sched.dil_float:
        b.add(b.c, dil, 0, cfg.c_line * n)
        b.add(b.g, dil, 0, 1.0 / cfg.r_leak)
    else:
        fixed.append(dil)
    if sched.spl is None:
        b.add(b.c, spl, 0, cfg.c_line * n)
        b.add(b.g, spl, 0, 1.0 / cfg.r_leak)
        pre = spl
    else:
        fixed.append(spl)
        pre = np.zeros(0, dtype=int)
    bl_t, dil_t, dol_t = _line(b, bl, n, cfg), _line(b, dil, n, cfg), _line(b, dol, m, cfg)
    mid = b.nodes(m, n)
    b.add(b.c, mid, 0, cfg.c_line)
    b.add(b.g, mid, 0, 1.0 / cfg.r_leak)
    spl_g = np.repeat(spl[:, None], n, axis=1)
    if cfg.topology == "B":
        sset = _fefets(b, sdev, bl_t, spl_g, mid)
        wset = _fefets(b, wdev, dil_t, mid, dol_t.T)
    else:
        sset = _fefets(b, sdev, dil_t, spl_g, mid)
        wset = _fefets(b, wdev, mid, bl_t, dol_t.T)
    return Network(n_nodes=b.n, fixed=np.concatenate(fixed), bl=bl, dil=dil, dol=dol, spl=spl,
                   g_lin=b.matrix(b.g), c_lin=b.matrix(b.c), weight=wset, sparsity=sset, pre=pre)


def source_values(net: Network, sched: Schedule, k: int, frac: float) -> tuple[np.ndarray, np.ndarray]:
    """(node indices, voltages) of the driven lines at fraction ``frac`` of segment ``k``'s edge (linear
    transition from segment k-1's value to segment k's, as :func:`~fefet_spice.spice.deck.pwl`)."""
    idx, vals = [net.bl, net.dol], [sched.bl, sched.dol]
    if not sched.dil_float:
        idx.append(net.dil)
        vals.append(sched.dil)
    if sched.spl is not None:
        idx.append(net.spl)
        vals.append(sched.spl)
    v = np.concatenate([x[:, k] if k == 0 else x[:, k - 1] + frac * (x[:, k] - x[:, k - 1]) for x in vals])
    return np.concatenate(idx), v
