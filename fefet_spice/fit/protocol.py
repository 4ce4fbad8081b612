"""What a measurement means as a gate waveform: the shared protocol of the generator and the fit.

Conventions (metadata of a :class:`~fefet_spice.readers.Measurement`, numbers in SI):

* ``reset_v`` [V], ``reset_t`` [s] — before the recorded data the gate was held at ``reset_v`` for
  ``reset_t`` with source and drain grounded (omitted: no reset, the device starts fully down).
* ``idvg`` — one staircase segment per row at the row's ``vg``; the drain at metadata ``vd`` (or the
  row's ``vd``); each stair lasts the step of the ``t`` column (metadata ``dwell`` if there is none).
* ``idvd`` — one segment per row at the row's ``vd``, gate at metadata ``vg``.
* ``pulse`` — a row with zero amplitude and width is a read only (the read before the first pulse);
  every other row is a pulse (``amplitude``, ``width``; drain and source grounded), an idle gap
  ``t_gap`` at 0 V and a read at ``v_read_g`` / ``vd`` lasting ``t_read``.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..waveforms import KINDS, Waveform

_CODE = {k: i for i, k in enumerate(KINDS)}


def _seg(vg, dt, vd, kind, pulse=-1):
    n = len(vg)
    return (np.asarray(vg, float), np.broadcast_to(np.asarray(dt, float), (n,)),
            np.broadcast_to(np.asarray(vd, float), (n,)), np.full(n, _CODE[kind], np.int8),
            np.broadcast_to(np.asarray(pulse, np.int64), (n,)))


def _dwell(m) -> np.ndarray:
    n = len(m)
    if "t" in m.columns and n > 1:
        dt = np.diff(m["t"])
        return np.concatenate([[dt[0]], dt])
    dwell = m.meta("dwell")
    if not isinstance(dwell, float) or dwell <= 0:
        raise DataError(f"{m.source}: a sweep needs a 't' column or a positive 'dwell' metadata [s] "
                        "(for instrument exports: fefet-spice fit --dwell SECONDS)")
    return np.full(n, dwell)


def _number(m, key: str, default=None) -> float:
    v = m.meta(key, default)
    if not isinstance(v, (int, float)):
        raise DataError(f"{m.source}: metadata {key!r} must be a number, got {v!r}")
    return float(v)


def build(m) -> tuple[Waveform, np.ndarray]:
    """Waveform reproducing measurement ``m`` and the segment index of each data row."""
    parts = []
    if m.meta("reset_v") is not None:
        parts.append(_seg([_number(m, "reset_v")], _number(m, "reset_t"), 0.0, "hold"))
    offset = sum(len(p[0]) for p in parts)
    if m.kind == "idvg":
        vd = m["vd"] if "vd" in m.columns else _number(m, "vd")
        parts.append(_seg(m["vg"], _dwell(m), vd, "sweep"))
        rows = offset + np.arange(len(m))
    elif m.kind == "idvd":
        vg = m["vg"] if "vg" in m.columns else np.full(len(m), _number(m, "vg"))
        parts.append(_seg(vg, _dwell(m), m["vd"], "sweep"))
        rows = offset + np.arange(len(m))
    else:
        vrg, vrd = _number(m, "v_read_g"), _number(m, "vd")
        t_gap, t_read = _number(m, "t_gap", 1e-6), _number(m, "t_read", 1e-6)
        rows = np.empty(len(m), dtype=np.int64)
        k = 0
        for i, (amp, width) in enumerate(zip(m["amplitude"], m["width"])):
            if width > 0:
                parts.append(_seg([amp, 0.0, vrg], [width, t_gap, t_read], [0.0, 0.0, vrd],
                                  "pulse", i))
                parts[-1][3][1:] = [_CODE["gap"], _CODE["read"]]
            else:
                parts.append(_seg([vrg], t_read, vrd, "read", i))
            rows[i] = offset + k + len(parts[-1][0]) - 1
            k += len(parts[-1][0])
    wf = Waveform(*(np.concatenate([p[j] for p in parts]) for j in range(5)))
    return wf, rows
