"""The common measurement record every reader returns, plus unit and validation helpers.

A :class:`Measurement` holds columns in SI units, keyed by canonical names:

* ``idvg`` — ``vg`` [V], ``id`` [A], optional ``t`` [s], ``vd`` [V], ``ig`` [A]
* ``idvd`` — ``vd`` [V], ``id`` [A], optional ``t`` [s], ``vg`` [V]
* ``pulse`` — ``pulse`` [-] (0 = read before the first pulse), ``amplitude`` [V], ``width`` [s],
  ``g`` [S] (conductance read after the pulse), optional ``t`` [s]

Metadata values are strings or numbers (instrument, ``vd`` [V], ``v_read_g`` [V], ``reset_v`` [V],
``reset_t`` [s], ``compliance`` [A], ...). Every error is a :class:`~fefet_spice.errors.DataError`
naming the file and, where it applies, the line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..errors import DataError, shown, shown_list

KINDS = ("idvg", "idvd", "pulse")
REQUIRED = {"idvg": ("vg", "id"), "idvd": ("vd", "id"), "pulse": ("pulse", "amplitude", "width", "g")}
DIMENSION = {"vg": "V", "vd": "V", "vs": "V", "id": "A", "ig": "A", "is": "A", "t": "s", "pulse": "",
             "amplitude": "V", "width": "s", "g": "S"}
"""Base SI unit of each canonical column ('' = dimensionless)."""

_PREFIX = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "": 1.0,
           "k": 1e3, "M": 1e6}
_UNIT_RE = re.compile(r"^\s*([fpnuµμmkM]?)(V|A|s|S|Ohm|ohm)\s*$")


def parse_unit(text: str) -> tuple[str, float]:
    """Split a unit like ``'uA'`` into its base unit and factor to SI: ``('A', 1e-6)``.

    An empty string or ``'-'`` / ``'1'`` means dimensionless. Raises ``ValueError`` for anything else.
    """
    t = (text or "").strip()
    if t in ("", "-", "1", "#"):
        return "", 1.0
    if t in ("sec", "secs", "second", "seconds"):
        return "s", 1.0
    m = _UNIT_RE.match(t)
    if not m:
        raise ValueError(f"unknown unit {shown(text)}")
    prefix, base = m.groups()
    if base.lower() == "ohm":
        base = "Ohm"
    return base, _PREFIX[prefix]


def where(path: Any, line: int | None = None) -> str:
    """``'file: line N'`` prefix for error messages."""
    return f"{path}: line {line}" if line else f"{path}"


_NUM_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµμ]*)\s*$")


def parse_value(cell: str, unit: str, path, line: int, column: str) -> float:
    """A number from a CSV cell. A unit suffix on the cell must equal the column's unit (else: mixed units)."""
    text = cell.strip()
    if text.lower() in ("nan", "", "inf", "-inf", "+inf", "infinity"):
        raise DataError(f"{where(path, line)}: column {shown(column)} is {'empty' if not text else shown(text)}"
                        " (missing or non-finite value)")
    m = _NUM_RE.match(text)
    if not m:
        raise DataError(f"{where(path, line)}: column {shown(column)}: {shown(cell.strip())} is not a number")
    suffix = m.group(2)
    if suffix and suffix != unit:
        raise DataError(f"{where(path, line)}: mixed units in column {shown(column)}: the column is in "
                        f"{shown(unit or 'no unit')}, this value is in {shown(suffix)}")
    value = float(m.group(1))
    if not math.isfinite(value):
        raise DataError(f"{where(path, line)}: column {shown(column)} is not finite ({shown(cell.strip())})")
    return value


def to_si(name: str, unit: str, path, line: int | None = None) -> float:
    """Factor converting column ``name`` given in ``unit`` to SI; checks the dimension."""
    try:
        base, factor = parse_unit(unit)
    except ValueError as exc:
        raise DataError(f"{where(path, line)}: column {shown(name)}: {exc}") from None
    want = DIMENSION.get(name)
    if want is not None and base != want:
        raise DataError(f"{where(path, line)}: column {shown(name)} must be in {want or 'no unit'!r}"
                        f" (or a prefixed form), got {shown(unit)}")
    return factor


@dataclass(frozen=True)
class Measurement:
    """One measured curve or pulse sequence, columns in SI units."""

    kind: str
    """'idvg', 'idvd' or 'pulse'."""
    columns: Mapping[str, np.ndarray]
    """Canonical column name -> values in SI units (read-only arrays of equal length)."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Instrument, biases and pulse settings (numbers in SI units)."""
    source: str = ""
    """File the data came from (plus '#run N' for multi-run files)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"{self.source}: unknown measurement kind {shown(self.kind)} (one of {KINDS})")
        cols = {}
        n = None
        for k, v in self.columns.items():
            arr = np.array(v, dtype=float)
            arr.setflags(write=False)
            if n is not None and len(arr) != n:
                raise DataError(f"{self.source}: column {shown(k)} has {len(arr)} values, expected {n}")
            n = len(arr)
            cols[k] = arr
        object.__setattr__(self, "columns", MappingProxyType(cols))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def meta(self, key: str, default: Any = None) -> Any:
        """A metadata value (numbers come back as float)."""
        return self.metadata.get(key, default)


def validate(m: Measurement, lines: list[int] | None = None, header_line: int | None = None) -> Measurement:
    """Check required columns, finiteness and monotonic time; errors name the file and line
    (``lines``: file line of each row; ``header_line``: line of the column names)."""
    missing = [c for c in REQUIRED[m.kind] if c not in m.columns]
    if missing:
        raise DataError(f"{where(m.source, header_line)}: wrong columns for {m.kind!r} data: missing {', '.join(missing)}"
                        f" (have {shown_list(m.columns) or 'none'})")
    if len(m) == 0:
        raise DataError(f"{m.source}: no data rows")

    def line_of(i: int) -> int | None:
        return lines[i] if lines and i < len(lines) else None

    for name, arr in m.columns.items():
        bad = np.flatnonzero(~np.isfinite(arr))
        if len(bad):
            raise DataError(f"{where(m.source, line_of(int(bad[0])))}: column {shown(name)} is not finite")
    if "t" in m.columns and len(m) > 1:
        back = np.flatnonzero(np.diff(m["t"]) <= 0)
        if len(back):
            i = int(back[0]) + 1
            raise DataError(f"{where(m.source, line_of(i))}: time is not increasing "
                            f"(t = {m['t'][i]:g} s after {m['t'][i - 1]:g} s)")
    if m.kind == "pulse" and np.any(m["width"] < 0):
        i = int(np.flatnonzero(m["width"] < 0)[0])
        raise DataError(f"{where(m.source, line_of(i))}: pulse width must be >= 0")
    return m


def coerce_meta(value: str) -> Any:
    """Metadata text -> float when it is a plain number (optionally with a unit converted to SI)."""
    text = value.strip()
    m = _NUM_RE.match(text)
    if m:
        num = float(m.group(1))
        if m.group(2):
            try:
                _, factor = parse_unit(m.group(2))
                return num * factor
            except ValueError:
                return text
        return num
    return text


MAX_MEASUREMENT_FILES = 1_000
"""Most measurement files one command reads (a folder's ``*.csv`` included; the committed devices have 17
and 18)."""
MAX_MEASUREMENT_BYTES = 16 * 1024 * 1024
"""Largest measurement file read [bytes] (the committed ones are at most 15 kB)."""
MAX_MEASUREMENT_LINES = 100_000
"""Most lines of a measurement file (the committed ones have at most 742)."""
MAX_LINE_CHARS = 10_000
"""Longest line of a measurement file [characters] (this bounds its columns too)."""


def check_line_counts(text: str, path, max_lines: int | None, max_chars: int = MAX_LINE_CHARS) -> None:
    """LimitError naming the file (and line) if ``text`` has more than ``max_lines`` lines or a line longer
    than ``max_chars`` characters; checked before any line is parsed."""
    from ..errors import LimitError

    n = text.count("\n") + (0 if text.endswith("\n") else 1)
    if max_lines is not None and n > max_lines:
        raise LimitError(f"{path}: {n:,} lines; fefet-spice reads measurement files of at most {max_lines:,} "
                         "lines (resample the data or cut it into files)")
    start = 0
    while True:
        end = text.find("\n", start)
        stop = len(text) if end < 0 else end
        if stop - start > max_chars:
            line = text.count("\n", 0, start) + 1
            raise LimitError(f"{where(path, line)}: {stop - start:,} characters; a line of a measurement file "
                             f"has at most {max_chars:,} (columns)")
        if end < 0:
            return
        start = end + 1


def read_text(path, max_lines: int | None = MAX_MEASUREMENT_LINES, max_bytes: int = MAX_MEASUREMENT_BYTES) -> str:
    """A measurement file's text (UTF-8, BOM tolerated), bounded in size, lines and line length (see
    :data:`MAX_MEASUREMENT_LINES`, :data:`MAX_LINE_CHARS`); DataError/LimitError naming the file otherwise."""
    from ..io.inputs import check_input_file

    check_input_file(path, max_bytes)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    check_line_counts(text, path, max_lines)
    return text
