"""The reads of a simulated waveform (numpy fast path): channel currents of the biased segments, read
noise and the conductances read after each pulse.

Polarization arrives segment-major, ``p_kn`` of shape (K, n_devices), and currents are written to a
segment-major array of the same shape: every segment is one contiguous row.
"""
from __future__ import annotations

import numpy as np

from ..params import FeFETParams
from ..waveforms import Waveform
from .channel import TABLE_MIN_POINTS, TABLE_STEP, ReadTable, drain_current

READ_BLOCK = 16
"""Segments whose reads are evaluated (and read noise drawn) together: a block stays in cache."""


def _blocks(rows: np.ndarray):
    return (rows[i:i + READ_BLOCK] for i in range(0, len(rows), READ_BLOCK))


def channel_currents(params: FeFETParams, vg: np.ndarray, vd: np.ndarray, p_kn: np.ndarray, p_range: tuple,
                     vt_shift: np.ndarray, rows: np.ndarray, current: np.ndarray) -> None:
    """Drain currents of the segments ``rows`` written to ``current`` (K, n_devices).

    ``p_range`` bounds P/Ps (the domain update only moves states toward +-1, so the initial states and
    +-1 bound it). Segments sharing a bias (the reads of a pulse train) go through one :class:`ReadTable` spanning every
    threshold the devices can have, block by block in reused buffers; the rest (sweeps, small batches) are
    solved directly in one vectorized call.
    """
    n_dev = p_kn.shape[1]
    vt_base = params.vt_mid + vt_shift  # Vt = vt_base - (MW/2) P/Ps (SPEC 1.3)
    half_mw = 0.5 * params.mw
    pairs, inverse = np.unique(np.stack([vg[rows], vd[rows]], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    rest = np.ones(len(rows), dtype=bool)
    ends = (-half_mw * p_range[0], -half_mw * p_range[1])
    lo, hi = float(vt_base.min()) + min(ends), float(vt_base.max()) + max(ends)
    n_nodes = int(np.ceil((hi - lo) / TABLE_STEP)) + 4
    for j in np.flatnonzero(np.bincount(inverse) * n_dev > TABLE_MIN_POINTS * n_nodes):
        table = ReadTable(params.channel, pairs[j, 0], pairs[j, 1], lo, hi)
        if not table.valid:
            continue
        rest[inverse == j] = False
        shape = (min(READ_BLOCK, int(np.sum(inverse == j))), n_dev)
        vt, out, work, index = np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape, dtype=np.intp)
        for blk in _blocks(rows[inverse == j]):
            m = len(blk)
            np.take(p_kn, blk, axis=0, out=vt[:m])
            vt[:m] *= -half_mw
            vt[:m] += vt_base
            current[blk] = table.evaluate(vt[:m], out[:m], index[:m], work[:m])
    if rest.any():
        r = rows[rest]
        vt = params.vt_mid + vt_shift[None, :] - half_mw * p_kn[r]
        current[r] = drain_current(params.channel, vg[r, None], vd[r, None], vt)


def add_read_noise(rng: np.random.Generator, sigma: np.ndarray, reads: np.ndarray, current: np.ndarray) -> None:
    """Add Gaussian read noise of standard deviation ``sigma[k]`` [A] to the read rows of ``current``.

    Drawn read by read in segment order (in blocks of ``READ_BLOCK`` into one reused buffer; the same
    stream as one draw of shape (n_reads, n_devices)).
    """
    buf = np.empty((min(READ_BLOCK, len(reads)), current.shape[1]))
    for blk in _blocks(reads):
        z = rng.standard_normal(out=buf[:len(blk)])
        z *= sigma[blk, None]
        current[blk] += z


def conductances(waveform: Waveform, reads: np.ndarray, current: np.ndarray, vd_seg: np.ndarray):
    """Conductance read after each pulse (last read belonging to it) and before the first pulse.

    ``current`` is segment-major (K, n_devices); the results are per device (n_devices, ...).
    """
    g_after = g_init = None
    n_p = waveform.n_pulses
    idx = reads[waveform.pulse[reads] >= 0]
    if n_p and len(idx):
        last = np.full(n_p, -1)
        last[waveform.pulse[idx]] = idx
        if np.all(last >= 0):
            g = np.take(current, last, axis=0)
            g /= vd_seg[last, None]
            g_after = g.T
    first_pulse = np.flatnonzero(waveform.pulse >= 0)
    pre = reads[waveform.pulse[reads] < 0]
    if len(pre) and (not len(first_pulse) or pre[0] < first_pulse[0]):
        k = pre[pre < (first_pulse[0] if len(first_pulse) else len(waveform.pulse))][-1]
        g_init = current[k] / vd_seg[k]
    return g_after, g_init
