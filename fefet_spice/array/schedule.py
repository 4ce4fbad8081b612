"""Piecewise-constant line schedules of array operations (SPEC 2), shared by ngspice and numpy.

Rows carry BL, SPL, DIL (shape (M, K)), columns DOL (shape (N, K)); ``dt`` (K,) are the segment
durations [s]. ``spl`` None means SPL floats (pre-charged to ``v_spl_pre`` during the first
``t_pre`` and then left floating).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParamError
from .schemes import Scheme


@dataclass(frozen=True)
class Schedule:
    """Line voltages [V] per segment and segment durations [s]."""

    dt: np.ndarray
    """Segment durations, shape (K,) [s]."""
    bl: np.ndarray
    """Bit-line voltages, shape (M, K) [V]."""
    dil: np.ndarray
    """Data-input-line voltages, shape (M, K) [V]."""
    dol: np.ndarray
    """Data-output-line voltages, shape (N, K) [V]."""
    spl: np.ndarray | None = None
    """Sparsity-line voltages (M, K) [V]; None: floating after a pre-charge."""
    v_spl_pre: float = 3.0
    """Pre-charge of a floating SPL [V] (boosts the sparsity FeFET's pass level)."""
    t_pre: float = 0.0
    """Pre-charge time at the start (all other lines at 0 V) [s]."""
    pulse_of: np.ndarray | None = None
    """Index of the operation step each segment belongs to (K,) or None."""
    dil_float: bool = False
    """Every DIL floats (line capacitance and a leak to ground); ``dil`` is then ignored."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.bl.shape[0], self.dol.shape[0]


def _segments(m: int, n: int, k: int):
    return np.zeros(k), np.zeros((m, k)), np.zeros((m, k)), np.zeros((n, k))


def row_column_vau(r_counts, c_counts, v_up: float, v_dn: float, width: float, gap: float,
                   v_comp_frac: float = 1.0, t_pre: float = 100e-9, v_spl_pre: float = 3.0,
                   scheme: Scheme | None = None) -> Schedule:
    """One full VAU update: N column steps then one row step (SPEC 2, 3).

    Column step j: ``|c_j|`` identical pulses of polarity sign(c_j) on every BL; DOL_j and all DIL at
    0 V; unselected DOLs at ``v_comp_frac`` x the pulse amplitude (same polarity: the weight drive
    ``Vg - (Vs + Vd)/2`` of unselected cells is then cut to (1 - v_comp_frac/2) of the pulse).
    Row step: BL_i carries ``|r_i|`` pulses of polarity sign(r_i); all DIL and DOL at 0 V.
    Each pulse is followed by ``gap`` [s] with every line at 0 V. SPL floats.

    With a ``scheme`` (:mod:`fefet_spice.array.schemes`) every line follows the scheme's column and
    row steps instead, ``v_up``/``v_dn`` being the target drives of a selected cell (``v_comp_frac``
    and ``v_spl_pre`` are then taken from the scheme).
    """
    if scheme is None:  # the paper's scheme (SPEC 2) with this V_comp
        scheme = Scheme("paper_vcomp", "B", "unselected DOL at v_comp_frac x the pulse, DILs grounded",
                        col_bl=1.0, col_dil=0.0, col_dol_sel=0.0, col_dol_unsel=v_comp_frac, spl_pre_v=v_spl_pre)
    return _vau_scheme(r_counts, c_counts, v_up, v_dn, width, gap, t_pre, scheme)


def write_cells(m: int, n: int, cells, amplitude: float, width: float, gap: float,
                inhibit_frac: float = 0.5, t_pre: float = 100e-9, v_spl_pre: float = 3.0) -> Schedule:
    """Cell-by-cell writes with inhibit: for each ``(i, j, count)`` in ``cells``, ``count`` pulses of
    ``amplitude`` [V] on BL_i (other BLs at 0 V); DOL_j and all DILs at 0 V; the other DOLs at
    ``2 inhibit_frac amplitude``, so half-selected cells of row i see the weight drive
    ``(1 - inhibit_frac) amplitude`` (``Vg - (Vs + Vd)/2``) and cells of other rows see none."""
    cells = list(cells)
    k = 1 + 2 * sum(abs(int(c[2])) for c in cells)
    dt, bl, dil, dol = _segments(m, n, k)
    dt[0] = t_pre
    pos = 1
    for i, j, cnt in cells:
        for _ in range(abs(int(cnt))):
            dt[pos], dt[pos + 1] = width, gap
            bl[i, pos] = amplitude
            dol[:, pos] = 2.0 * inhibit_frac * amplitude
            dol[j, pos] = 0.0
            pos += 2
    return Schedule(dt=dt, bl=bl, dil=dil, dol=dol, spl=None, v_spl_pre=v_spl_pre, t_pre=t_pre)


def sparsity_write(m: int, n: int, rows, amplitude: float, width: float, gap: float,
                   count: int = 1) -> Schedule:
    """Pruning (amplitude < 0) or regrowth (amplitude > 0) of the sparsity FeFETs of whole rows:
    ``count`` pulses on SPL_i for each i in ``rows``; every other line at 0 V. In topology B the
    sparsity drive is SPL - (BL + WG)/2 and BL is shared by the row, so a sparsity write is row-wide
    (cell-selective pruning needs a column-wise line the sparsity FeFET does not have)."""
    rows = list(rows)
    k = 1 + 2 * len(rows) * count
    dt, bl, dil, dol = _segments(m, n, k)
    spl = np.zeros((m, k))
    dt[0] = 100e-9
    pos = 1
    for i in rows:
        for _ in range(count):
            dt[pos], dt[pos + 1] = width, gap
            spl[i, pos] = amplitude
            pos += 2
    return Schedule(dt=dt, bl=bl, dil=dil, dol=dol, spl=spl)


def mac_read(v_in, n: int, v_read_g: float, t_read: float, v_spl: float = 0.0, t_pre: float = 100e-9) -> Schedule:
    """MAC read: DIL_i = ``v_in[i]`` [V], every BL at ``v_read_g`` [V] (passed to kept weight gates),
    SPL driven at ``v_spl`` [V], DOLs at 0 V (virtual ground); one segment of ``t_read`` [s]."""
    v_in = np.asarray(v_in, dtype=float)
    m = len(v_in)
    dt = np.array([t_pre, t_read])
    bl = np.tile([0.0, v_read_g], (m, 1))
    dil = np.stack([np.zeros(m), v_in], axis=1)
    return Schedule(dt=dt, bl=bl, dil=dil, dol=np.zeros((n, 2)), spl=np.full((m, 2), float(v_spl)))


def _lv(x: float | None, amp: float) -> float:
    return 0.0 if x is None else x * amp


def _vau_scheme(r_counts, c_counts, v_up: float, v_dn: float, width: float, gap: float, t_pre: float,
                sc: Scheme) -> Schedule:
    """:func:`row_column_vau` under a named programming scheme."""
    r = np.asarray(r_counts, dtype=int)
    c = np.asarray(c_counts, dtype=int)
    m, n = len(r), len(c)
    if v_up <= 0 or v_dn >= 0 or width <= 0 or gap <= 0:
        raise ParamError("VAU schedule: need v_up > 0 > v_dn, width > 0, gap > 0")
    k = 1 + 2 * (int(np.abs(c).sum()) + int(np.abs(r).max(initial=0)))
    dt, bl, dil, dol = _segments(m, n, k)
    step = np.full(k, -1)
    dt[0] = t_pre
    pos = 1
    for j in range(n):
        a = v_up if c[j] > 0 else v_dn
        for _ in range(abs(c[j])):
            dt[pos], dt[pos + 1] = width, gap
            bl[:, pos], dil[:, pos] = sc.col_bl * a, _lv(sc.col_dil, a)
            dol[:, pos] = sc.col_dol_unsel * a
            dol[j, pos] = sc.col_dol_sel * a
            step[pos:pos + 2] = j
            pos += 2
    for p in range(int(np.abs(r).max(initial=0))):
        dt[pos], dt[pos + 1] = width, gap
        on = np.abs(r) > p
        amp = np.where(r > 0, v_up, v_dn)
        bl[:, pos] = np.where(on, sc.row_bl * amp, 0.0)
        dil[:, pos] = np.where(on, _lv(sc.row_dil, 1.0) * amp, 0.0)
        step[pos:pos + 2] = n
        pos += 2
    return Schedule(dt=dt, bl=bl, dil=dil, dol=dol, spl=None, v_spl_pre=sc.spl_pre_v, t_pre=t_pre, pulse_of=step,
                    dil_float=sc.dil_floats)


def write_cells_scheme(m: int, n: int, cells, amplitude: float, width: float, gap: float, scheme: Scheme,
                       t_pre: float = 100e-9) -> Schedule:
    """Cell-by-cell writes under ``scheme``: for each ``(i, j, count)``, ``|count|`` pulses of target drive
    ``sign(count) amplitude`` [V] with the scheme's cell-step voltages on every line."""
    cells = list(cells)
    k = 1 + 2 * sum(abs(int(c[2])) for c in cells)
    dt, bl, dil, dol = _segments(m, n, k)
    dt[0] = t_pre
    pos = 1
    sc = scheme
    for i, j, cnt in cells:
        a = amplitude if cnt > 0 else -amplitude
        for _ in range(abs(int(cnt))):
            dt[pos], dt[pos + 1] = width, gap
            bl[:, pos], dil[:, pos] = sc.cell_bl_unsel * a, _lv(sc.cell_dil_unsel, a)
            bl[i, pos], dil[i, pos] = sc.cell_bl_sel * a, _lv(sc.cell_dil_sel, a)
            dol[:, pos] = sc.cell_dol_unsel * a
            dol[j, pos] = sc.cell_dol_sel * a
            pos += 2
    return Schedule(dt=dt, bl=bl, dil=dil, dol=dol, spl=None, v_spl_pre=sc.spl_pre_v, t_pre=t_pre,
                    dil_float=sc.cell_dil_sel is None)


def prune_regrow(m: int, n: int, prune_cells, regrow_rows, weight_amplitude: float, weight_width: float,
                 sparsity_amplitude: float, sparsity_width: float, gap: float, scheme: Scheme,
                 g_min_pulses: int = 8) -> list[Schedule]:
    """Pruning and regrowth as a sequence of operations (SPEC 2): the weights of ``prune_cells``
    (i, j) are first written to G_min (``g_min_pulses`` depression cell writes under ``scheme``), then
    the sparsity FeFETs of their rows are written off (SPL pulse ``-|sparsity_amplitude|``); the rows of
    ``regrow_rows`` get an SPL pulse ``+|sparsity_amplitude|`` (their weights restart from G_min)."""
    ops = []
    cells = [(i, j, -abs(int(g_min_pulses))) for i, j in prune_cells]
    if cells:
        ops.append(write_cells_scheme(m, n, cells, abs(weight_amplitude), weight_width, gap, scheme))
        rows = sorted({i for i, _ in prune_cells})
        ops.append(sparsity_write(m, n, rows, -abs(sparsity_amplitude), sparsity_width, gap))
    if regrow_rows:
        ops.append(sparsity_write(m, n, list(regrow_rows), abs(sparsity_amplitude), sparsity_width, gap))
    return ops
