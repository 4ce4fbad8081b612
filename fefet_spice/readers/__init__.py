"""Measurement file readers, one module per format, all returning :class:`Measurement` (SI units).

* :mod:`.own_csv` — our CSV with a ``# key: value`` metadata header (read and write)
* :mod:`.keysight_b1500` — Keysight B1500A EasyEXPERT CSV, several runs per file
* :mod:`.keithley_4200` — Keithley 4200A-SCS CSV export (``DrainI``, ``GateV``, ``Vforce``/``Imeas``)
* :mod:`.two_column` — plain two-column files, units from the caller
* :mod:`.qv` — capacitor Q-V / P-V traces (``t, V, Q``), ours (``kind: qv``) or plain; returns ``QVTrace``

:func:`read_any` picks the reader from the file's first lines; :func:`read_dir` reads a folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError
from .base import (KINDS, MAX_LINE_CHARS, MAX_MEASUREMENT_BYTES, MAX_MEASUREMENT_FILES, Measurement, parse_unit,
                   validate)

__all__ = ["KINDS", "Measurement", "parse_unit", "folder_files", "read_any", "read_dir", "sniff", "validate"]


def sniff(path: str | os.PathLike) -> str:
    """Format name of a file: 'own', 'b1500', 'k4200' (or 'two_column' as the fallback)."""
    path = Path(path)
    if path.suffix.lower() in (".xls", ".xlsx"):
        return "k4200"
    from ..io.inputs import check_input_file

    check_input_file(path, MAX_MEASUREMENT_BYTES)
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            head = [fh.readline(MAX_LINE_CHARS + 1) for _ in range(40)]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    first = next((h.strip() for h in head if h.strip()), "")
    if not first:
        raise DataError(f"{path}: line 1: the file is empty")
    if first.startswith("# fefet-measurement"):
        return "own"
    if first.split(",")[0].strip() == "SetupTitle":
        return "b1500"
    text = "".join(head).lower()
    if any(k in text for k in ("draini", "gatev", "imeas", "vforce", "drainv")):
        return "k4200"
    return "two_column"


def read_any(path: str | os.PathLike, **two_column_kw) -> list[Measurement]:
    """All measurements in a file, whatever its format (two-column files need ``kind``, ``x_unit``, ``y_unit``)."""
    from . import keithley_4200, keysight_b1500, own_csv, two_column

    fmt = sniff(path)
    if fmt == "own":
        return [own_csv.read(path)]
    if fmt == "b1500":
        return keysight_b1500.read(path)
    if fmt == "k4200":
        return [keithley_4200.read(path)]
    if not two_column_kw:
        raise DataError(f"{path}: unknown format (not ours, B1500 or Keithley 4200); for a plain "
                        "two-column file give kind and units")
    return [two_column.read(path, **two_column_kw)]


def folder_files(folder: Path, pattern: str = "*.csv", limit: int = MAX_MEASUREMENT_FILES) -> list[Path]:
    """The regular files of ``folder`` matching ``pattern`` (unsorted); LimitError naming the folder past
    ``limit`` of them (counted while listing: a folder of a million files is not listed whole)."""
    from ..errors import LimitError

    out = []
    for p in folder.glob(pattern):
        if p.is_file():
            out.append(p)
            if len(out) > limit:
                raise LimitError(f"{folder}: more than {limit:,} {pattern} files; fefet-spice reads at most "
                                 f"{limit:,} measurement files at once")
    return out


def read_dir(folder: str | os.PathLike, pattern: str = "*.csv") -> list[Measurement]:
    """Every measurement in the files of ``folder`` matching ``pattern`` (sorted, not recursive)."""
    folder = Path(folder)
    files = sorted(folder_files(folder, pattern))
    if not files:
        raise DataError(f"{folder}: no {pattern} files")
    return [m for f in files for m in read_any(f)]
