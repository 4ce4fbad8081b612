"""Capacitor Q-V / P-V traces: ``t, V, Q`` (or ``t, V, P``) columns, ours or plain CSV.

Accepted forms:

* our CSV (``# fefet-measurement: 1`` and ``# kind: qv`` metadata lines, header ``t [s],V [V],Q [uC/cm2]``);
* a plain CSV/whitespace table with a header row naming ``t``, ``V`` and ``Q`` or ``P`` (case-insensitive),
  units in brackets (``Q [C/cm2]``) or given by the caller (``units={'q': 'C/cm2'}``).

Charge units: ``C/m2``, ``C/cm2``, ``mC/m2``, ``uC/cm2`` (prefixes f p n u m on C), or ``C`` / ``uC`` total
charge together with an ``area`` [m^2]. Without any unit the magnitude decides between ``C/cm2`` and
``uC/cm2`` (the only two in use for HfZrO2 traces); a charge density outside 1e-4 .. 10 C/m^2 (0.01 .. 1000
uC/cm^2) after conversion is refused as a wrong unit. Time stamps rounded onto a coarse grid (repeated or
stepping back by less than half a step) are spread evenly between their neighbours; a clock that
goes back further is an error. Every error is one sentence naming the file and line.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import DataError, LimitError, shown, shown_list
from ..io.inputs import MAX_INPUT_BYTES
from .base import coerce_meta, read_text, where

_SEP = re.compile(r"[,;\t]")


def _split(text: str) -> list[str]:
    """Cells of a line: split on commas, semicolons or tabs if any, else on whitespace."""
    parts = _SEP.split(text) if _SEP.search(text) else text.split()
    return [c.strip() for c in parts if c.strip()]
_HEAD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[\[(]([^\])]*)[\])])?\s*$")
_C_PREFIX = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}
_T_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "sec": 1.0}
_V_UNIT = {"v": 1.0, "mv": 1e-3}
Q_RANGE = (1e-4, 10.0)
"""Plausible largest |Q| of a ferroelectric capacitor trace [C/m^2] (0.01 .. 1000 uC/cm^2)."""
MAX_SAMPLES = 200_000
"""Most samples of one Q-V trace read (MFM_scheme1 has about 6,900; the fit's time and memory grow with
them, about 1.8 kB per sample)."""


@dataclass(frozen=True)
class QVTrace:
    """One capacitor trace in SI units (charge per area)."""

    t: np.ndarray
    """Sample times, strictly increasing [s]."""
    v: np.ndarray
    """Voltage across the capacitor [V]."""
    q: np.ndarray
    """Charge (or polarization) per area [C/m^2]."""
    source: str
    """File the trace came from."""
    lines: tuple[int, ...] = ()
    """File line of every sample (for messages)."""
    n_nudged: int = 0
    """How many rounded time stamps were spread out."""

    def __len__(self) -> int:
        return len(self.t)

    def segment(self, start: int, stop: int) -> "QVTrace":
        """Samples ``start:stop`` as a trace of their own."""
        return QVTrace(self.t[start:stop], self.v[start:stop], self.q[start:stop], self.source,
                       self.lines[start:stop])


def charge_factor(unit: str, area: float | None, path, line: int | None) -> float:
    """Factor from ``unit`` to C/m^2 (total charge needs ``area`` [m^2])."""
    u = unit.strip().replace(" ", "").replace("^", "").replace("²", "2")
    m = re.fullmatch(r"([munpfµμ]?)C(?:/([cm]?)m2)?", u)
    if not m:
        raise DataError(f"{where(path, line)}: unknown charge unit {shown(unit)} "
                        "(use C/m2, C/cm2, uC/cm2, or C with an area)")
    factor = _C_PREFIX[m.group(1)]
    if m.group(2) is None:
        if not area:
            raise DataError(f"{where(path, line)}: charge column in {shown(unit)} is a total charge: "
                            "give the capacitor area")
        return factor / area
    return factor / {"": 1.0, "c": 1e-4, "m": 1e-6}[m.group(2)]


def _unit(table: dict, unit: str, what: str, path, line) -> float:
    key = unit.strip().lower().replace("µ", "u").replace("μ", "u")
    if key not in table:
        raise DataError(f"{where(path, line)}: unknown {what} unit {shown(unit)} (one of {', '.join(table)})")
    return table[key]


def _header(lines: list[str], path) -> tuple[int, dict, dict[str, str], dict[str, str]]:
    """Index of the header line, metadata, column index by role and units found in the header."""
    meta: dict = {}
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip()[0] in "#%"):
        body = lines[i].lstrip("#% ").strip()
        if ":" in body:
            key, value = body.split(":", 1)
            meta[key.strip().lower()] = coerce_meta(value)
        i += 1
    if i >= len(lines):
        raise DataError(f"{where(path, max(i, 1))}: no column header (need t, V and Q or P)")
    cells = _split(lines[i])
    roles: dict[str, int] = {}
    units: dict[str, str] = {}
    for j, cell in enumerate(cells):
        m = _HEAD.match(cell)
        name = (m.group(1) if m else cell).lower()
        role = {"t": "t", "time": "t", "v": "v", "voltage": "v", "q": "q", "p": "q", "charge": "q",
                "polarization": "q"}.get(name)
        if role and role not in roles:
            roles[role] = j
            if m and m.group(2):
                units[role] = m.group(2)
    missing = [r for r in ("t", "v", "q") if r not in roles]
    if missing:
        raise DataError(f"{where(path, i + 1)}: wrong columns for a Q-V trace: need t, V and Q (or P), "
                        f"missing {', '.join(missing).upper()} (have {shown_list(cells) or 'an empty line'})")
    return i, meta, {r: str(roles[r]) for r in roles}, units


def _rows(lines: list[str], start: int, roles: dict[str, str], path) -> tuple[np.ndarray, list[int]]:
    cols = [int(roles[r]) for r in ("t", "v", "q")]
    n = sum(1 for line in lines[start:] if line.strip() and line.strip()[0] not in "#%")
    if n > MAX_SAMPLES:
        raise LimitError(f"{path}: {n:,} samples; fefet-spice reads Q-V traces of at most {MAX_SAMPLES:,} samples "
                         "(resample the trace or cut it into parts)")
    rows, nos = [], []
    for i in range(start, len(lines)):
        text = lines[i].strip()
        if not text or text[0] in "#%":
            continue
        cells = _split(text)
        if len(cells) <= max(cols):
            raise DataError(f"{where(path, i + 1)}: {len(cells)} values, need at least {max(cols) + 1}")
        row = []
        for name, j in zip(("t", "V", "Q"), cols):
            try:
                x = float(cells[j])
            except ValueError:
                raise DataError(f"{where(path, i + 1)}: column {name}: {shown(cells[j])} is not a number") from None
            if not math.isfinite(x):
                raise DataError(f"{where(path, i + 1)}: column {name} is {shown(cells[j])} (missing or non-finite value)")
            row.append(x)
        rows.append(row)
        nos.append(i + 1)
    if len(rows) < 2:
        raise DataError(f"{where(path, start + 1)}: a Q-V trace needs at least 2 samples, found {len(rows)}")
    return np.array(rows), nos


def fix_clock(t: np.ndarray, nos: list[int], path) -> tuple[np.ndarray, int]:
    """Spread rounded (repeated or slightly decreasing) time stamps evenly; error on a real jump back."""
    dt = np.diff(t)
    pos = dt[dt > 0]
    if not len(pos):
        if np.all(dt == 0):
            raise DataError(f"{where(path, nos[1])}: time does not advance (every stamp equals {t[0]:g} s)")
        raise DataError(f"{where(path, nos[1])}: time never advances (from {t[0]:g} s down to {t[-1]:g} s): "
                        "are the rows in reverse order?")
    step = float(np.median(pos))
    bad = np.flatnonzero(dt < -0.5 * step)
    if len(bad):
        k = int(bad[0]) + 1
        raise DataError(f"{where(path, nos[k])}: time goes back (t = {t[k]:g} s after {t[k - 1]:g} s), "
                        "more than rounding explains")
    if np.all(dt > 0):
        return t, 0
    t = np.maximum.accumulate(t)
    out = t.copy()
    k, n, moved = 0, len(t), 0
    while k < n:
        j = k
        while j + 1 < n and t[j + 1] <= t[k]:
            j += 1
        if j > k:
            nxt = t[j + 1] if j + 1 < n else t[k] + (j - k + 1) * step
            out[k:j + 1] = t[k] + (nxt - t[k]) * np.arange(j - k + 1) / (j - k + 1)
            moved += j - k
        k = j + 1
    return out, moved


def _infer_q_unit(q: np.ndarray, path) -> str:
    big = float(np.max(np.abs(q)))
    if 1e-7 <= big <= 1e-3:
        return "C/cm2"
    if 1.0 <= big <= 1e3:
        return "uC/cm2"
    raise DataError(f"{path}: the charge column has no unit and its magnitude ({big:g}) fits neither C/cm2 "
                    "nor uC/cm2: give the unit (e.g. 'Q [C/m2]' in the header or --q-unit)")


def read(path: str | os.PathLike, units: Mapping[str, str] | None = None, area: float | None = None) -> QVTrace:
    """Read one Q-V / P-V trace.

    Parameters
    ----------
    path : path-like
    units : mapping, optional
        Units for columns without one in the header: keys ``'t'``, ``'v'``, ``'q'`` (e.g. ``{'q': 'C/cm2'}``).
        A unit in the header wins.
    area : float, optional
        Capacitor area [m^2] when Q is a total charge (also read from an ``area`` metadata line).
    """
    path = Path(path)
    if area is not None and not (isinstance(area, (int, float)) and math.isfinite(area) and area > 0):
        raise DataError(f"{path}: the capacitor area must be a positive number of m^2, got {area!r}")
    text = read_text(path, max_lines=None, max_bytes=MAX_INPUT_BYTES)  # samples bounded in _rows
    if not text.strip():
        raise DataError(f"{where(path, 1)}: the file is empty")
    lines = text.splitlines()
    start, meta, roles, head_units = _header(lines, path)
    kind = meta.get("kind")
    if kind is not None and kind != "qv":
        raise DataError(f"{where(path, 1)}: this is a {shown(kind)} measurement, not a Q-V trace (kind: qv)")
    unit = {**{k.lower(): v for k, v in (units or {}).items()}, **head_units}
    data, nos = _rows(lines, start + 1, roles, path)
    area = area or (meta.get("area") if isinstance(meta.get("area"), float) else None)
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 x a unit factor: inf, refused below by name
        t = data[:, 0] * _unit(_T_UNIT, unit.get("t", "s"), "time", path, start + 1)
        v = data[:, 1] * _unit(_V_UNIT, unit.get("v", "V"), "voltage", path, start + 1)
        q_unit = unit.get("q") or _infer_q_unit(data[:, 2], path)
        q = data[:, 2] * charge_factor(q_unit, area, path, start + 1)
    for name, col, hi in (("time", t, 1e6), ("voltage", v, 1e3)):
        bad = np.flatnonzero(~(np.abs(col) <= hi))
        if bad.size:
            raise DataError(f"{where(path, nos[int(bad[0])])}: {name} {col[int(bad[0])]:g} is outside "
                            f"-{hi:g}..{hi:g} ({'s' if name == 'time' else 'V'}; wrong unit?)")
    big = int(np.argmax(np.abs(q)))
    if not Q_RANGE[0] <= abs(q[big]) <= Q_RANGE[1]:
        raise DataError(f"{where(path, nos[big])}: charge {data[big, 2]:g} {q_unit} = {q[big] * 100:.3g} uC/cm^2 "
                        f"is not a ferroelectric charge density (expected 0.01..1000 uC/cm^2): wrong unit for Q?")
    t, moved = fix_clock(t, nos, path)
    return QVTrace(t, v, q, str(path), tuple(nos), moved)


def read_many(paths, units: Mapping[str, str] | None = None, area: float | None = None) -> list[QVTrace]:
    """Read several traces (all or nothing: the first bad file raises)."""
    if not paths:
        raise DataError("no Q-V trace files given")
    return [read(p, units, area) for p in paths]


def format_trace(tr: QVTrace, metadata: Mapping[str, object] | None = None) -> str:
    """Text of ``tr`` in our CSV format (``kind: qv``, Q in uC/cm^2)."""
    out = ["# fefet-measurement: 1", "# kind: qv"]
    for key, value in (metadata or {}).items():
        text = str(value)
        if "\n" in text or ":" in key:
            raise DataError(f"metadata {shown(key)}: key and value must be one line without ':' in the key")
        out.append(f"# {key}: {text}")
    out.append("t [s],V [V],Q [uC/cm2]")
    out += [f"{a:.10g},{b:.8g},{c * 100:.8g}" for a, b, c in zip(tr.t, tr.v, tr.q)]
    return "\n".join(out) + "\n"


def write(path: str | os.PathLike, tr: QVTrace, metadata: Mapping[str, object] | None = None) -> Path:
    """Atomically write ``tr`` to ``path`` in our CSV format."""
    from ..io.atomic import write_text

    return write_text(path, format_trace(tr, metadata))
