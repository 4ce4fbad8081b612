"""Our own measurement CSV: ``# key: value`` metadata lines, one header row ``name [unit],...``, data.

Example::

    # fefet-measurement: 1
    # kind: idvg
    # instrument: Keysight B1500A (SMU1 gate, SMU2 drain)
    # vd: 0.1 V
    # reset_v: -6 V
    # reset_t: 10 ms
    t [s],vg [V],id [A]
    0.05,-5,1.2e-13
    ...

Metadata numbers may carry a unit (converted to SI). Column units may be prefixed (``id [uA]``);
values are stored in SI. A cell may repeat its column's unit (``3.1 uA``); any other unit is an error.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import DataError, shown
from .base import KINDS, Measurement, coerce_meta, parse_value, read_text, to_si, validate, where

MAGIC = "fefet-measurement"
VERSION = 1
_HEAD_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([^\]]*)\])?\s*$")


def _read_lines(path: Path) -> list[str]:
    text = read_text(path)
    if not text.strip():
        raise DataError(f"{path}: line 1: the file is empty")
    return text.splitlines()


def parse_header(cells: list[str], path, line: int) -> list[tuple[str, str]]:
    """``['vg [V]', 'id [uA]']`` -> ``[('vg', 'V'), ('id', 'uA')]``."""
    out = []
    for cell in cells:
        m = _HEAD_RE.match(cell)
        if not m:
            raise DataError(f"{where(path, line)}: bad column header {shown(cell.strip())} (expected 'name [unit]')")
        out.append((m.group(1).lower(), (m.group(2) or "").strip()))
    names = [n for n, _ in out]
    from collections import Counter

    dup = sorted(n for n, c in Counter(names).items() if c > 1)
    if dup:
        raise DataError(f"{where(path, line)}: column {shown(dup[0])} appears twice")
    return out


def read_rows(lines: list[str], start: int, header: list[tuple[str, str]], path
              ) -> tuple[dict[str, np.ndarray], list[int]]:
    """Parse comma-separated data rows from ``lines[start:]`` (1-based line numbers kept for errors)."""
    factors = [to_si(n, u, path, start) for n, u in header]
    rows, line_nos = [], []
    for i in range(start, len(lines)):
        text = lines[i].strip()
        if not text or text.startswith("#"):
            continue
        cells = text.split(",")
        if len(cells) != len(header):
            raise DataError(f"{where(path, i + 1)}: {len(cells)} values, the header has {len(header)} columns")
        rows.append([parse_value(c, u, path, i + 1, n) * f for c, (n, u), f in zip(cells, header, factors)])
        line_nos.append(i + 1)
    if not rows:
        raise DataError(f"{where(path, start)}: no data rows after the header (this line)")
    arr = np.array(rows, dtype=float)
    return {n: arr[:, j] for j, (n, _) in enumerate(header)}, line_nos


def read(path: str | os.PathLike) -> Measurement:
    """Read one of our measurement CSV files."""
    path = Path(path)
    lines = _read_lines(path)
    meta: dict[str, Any] = {}
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        body = lines[i].lstrip("#").strip()
        if body:
            if ":" not in body:
                raise DataError(f"{where(path, i + 1)}: metadata line needs 'key: value', got {shown(body)}")
            key, value = body.split(":", 1)
            meta[key.strip().lower()] = coerce_meta(value)
        i += 1
    if meta.get(MAGIC) != VERSION:
        raise DataError(f"{where(path, 1)}: not a {MAGIC} file version {VERSION} "
                        f"(first line must be '# {MAGIC}: {VERSION}')")
    kind = meta.pop("kind", None)
    if kind not in KINDS:
        raise DataError(f"{path}: metadata 'kind' must be one of {', '.join(KINDS)}, got {shown(kind)}")
    if i >= len(lines):
        raise DataError(f"{where(path, i)}: no column header")
    header = parse_header(lines[i].split(","), path, i + 1)
    cols, line_nos = read_rows(lines, i + 1, header, path)
    meta.pop(MAGIC)
    return validate(Measurement(kind, cols, meta, str(path)), line_nos, header_line=i + 1)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v)


def format_measurement(m: Measurement, units: Mapping[str, str] | None = None) -> str:
    """Text of ``m`` in our CSV format (SI units unless ``units`` gives another, e.g. ``{'id': 'uA'}``)."""
    from .base import DIMENSION

    units = dict(units or {})
    out = [f"# {MAGIC}: {VERSION}", f"# kind: {m.kind}"]
    for key, value in m.metadata.items():
        text = _fmt(value)
        if "\n" in text:
            raise DataError(f"metadata {key!r}: value must be one line")
        out.append(f"# {key}: {text}")
    names = list(m.columns)
    unit_of = {n: units.get(n, DIMENSION.get(n, "")) for n in names}
    factor = {n: to_si(n, unit_of[n], "<writer>") for n in names}
    out.append(",".join(f"{n} [{unit_of[n]}]" if unit_of[n] else n for n in names))
    data = np.column_stack([np.asarray(m[n]) / factor[n] for n in names])
    for row in data:
        out.append(",".join(f"{x:.6g}" for x in row))
    return "\n".join(out) + "\n"


def write(path: str | os.PathLike, m: Measurement, units: Mapping[str, str] | None = None) -> Path:
    """Atomically write ``m`` to ``path`` in our CSV format."""
    from ..io.atomic import write_text

    return write_text(path, format_measurement(m, units))
