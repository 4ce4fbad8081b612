"""Keysight B1500A EasyEXPERT CSV export ("Export as CSV", one or several runs per file).

Each run is a block of lines starting with a tag: ``SetupTitle, <name>``, ``PrimitiveTest, ...``,
``TestParameter, <key>, <values...>``, ``MetaData, ...``, ``AnalysisSetup, ...``, ``Dimension1, ...``,
``DataName, <col>, <col>, ...`` and ``DataValue, <v>, <v>, ...``. A new ``SetupTitle`` starts a new run.
Values are in SI units (V, A, s). Column names are mapped to canonical names by common spellings
(``Vg``/``VG``/``Vgate`` -> ``vg``, ``Id``/``ID``/``Idrain`` -> ``id``, ...) or by ``columns``.
The kind (``idvg`` or ``idvd``) is taken from the swept voltage (the one with the largest range).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import DataError, shown, shown_list
from .base import Measurement, coerce_meta, parse_value, read_text, validate, where

ALIASES = {
    "vg": ("vg", "vgate", "v_g", "gatev", "vgs", "v2", "vforce_g"),
    "vd": ("vd", "vdrain", "v_d", "drainv", "vds", "v1", "vforce_d"),
    "id": ("id", "idrain", "i_d", "draini", "ids", "i1", "imeas_d"),
    "ig": ("ig", "igate", "i_g", "gatei", "i2", "imeas_g"),
    "t": ("t", "time", "@time"),
}


def canonical(name: str, columns: Mapping[str, str] | None = None) -> str | None:
    """Canonical column name for an instrument column name (``None`` when unknown)."""
    if columns:
        for canon, inst in columns.items():
            if inst.strip().lower() == name.strip().lower():
                return canon
    low = name.strip().lower()
    for canon, names in ALIASES.items():
        if low in names:
            return canon
    return None


def sweep_kind(cols: Mapping[str, np.ndarray], source) -> str:
    """'idvg' when the gate voltage spans more than the drain voltage, else 'idvd'."""
    span = {k: float(np.ptp(cols[k])) if k in cols and len(cols[k]) else -1.0 for k in ("vg", "vd")}
    if span["vg"] < 0 and span["vd"] < 0:
        raise DataError(f"{source}: wrong columns: neither a gate nor a drain voltage column")
    return "idvg" if span["vg"] >= span["vd"] else "idvd"


class _Run:
    def __init__(self, title: str, line: int):
        self.title, self.line = title, line
        self.params: dict[str, Any] = {}
        self.names: list[str] | None = None
        self.rows: list[list[float]] = []
        self.lines: list[int] = []


def _split(line: str) -> list[str]:
    return [c.strip() for c in line.split(",")]


def read(path: str | os.PathLike, columns: Mapping[str, str] | None = None) -> list[Measurement]:
    """Every run in an EasyEXPERT CSV file, in file order.

    Parameters
    ----------
    path : path-like
    columns : mapping, optional
        Canonical name -> instrument column name, for columns with unusual names.
    """
    path = Path(path)
    text = read_text(path)
    if not text.strip():
        raise DataError(f"{path}: line 1: the file is empty")
    runs: list[_Run] = []
    for no, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        cells = _split(raw)
        tag = cells[0]
        if tag == "SetupTitle":
            runs.append(_Run(cells[1] if len(cells) > 1 else "", no))
            continue
        if not runs:
            raise DataError(f"{where(path, no)}: expected a 'SetupTitle' line first "
                            "(not a Keysight EasyEXPERT CSV export?)")
        run = runs[-1]
        if tag == "TestParameter" and len(cells) >= 3:
            run.params[cells[1]] = cells[2:] if len(cells) > 3 else cells[2]
        elif tag == "DataName":
            if run.names is not None:
                raise DataError(f"{where(path, no)}: a second 'DataName' line in run {shown(run.title)}")
            run.names = cells[1:]
        elif tag == "DataValue":
            if run.names is None:
                raise DataError(f"{where(path, no)}: 'DataValue' before 'DataName'")
            vals = cells[1:]
            if len(vals) != len(run.names):
                raise DataError(f"{where(path, no)}: {len(vals)} values, 'DataName' has {len(run.names)}")
            run.rows.append([parse_value(v, "", path, no, n) for v, n in zip(vals, run.names)])
            run.lines.append(no)
    if not runs:
        raise DataError(f"{path}: no 'SetupTitle' line: not a Keysight EasyEXPERT CSV export")
    return [_to_measurement(path, i, r, columns) for i, r in enumerate(runs, 1)]


def _to_measurement(path: Path, index: int, run: _Run, columns) -> Measurement:
    source = f"{path}#run{index}"
    if not run.rows:
        raise DataError(f"{where(path, run.line)}: run {index} ({shown(run.title)}) has no DataValue lines")
    arr = np.array(run.rows, dtype=float)
    cols = {}
    for j, name in enumerate(run.names or []):
        canon = canonical(name, columns)
        if canon and canon not in cols:
            cols[canon] = arr[:, j]
    if "id" not in cols:
        raise DataError(f"{where(path, run.line)}: wrong columns in run {index}: no drain current among "
                        f"{shown_list(run.names or [])} (map one with columns={{'id': NAME}})")
    kind = sweep_kind(cols, f"{where(path, run.line)}: run {index}")
    meta: dict[str, Any] = {"instrument": "Keysight B1500A (EasyEXPERT)", "setup_title": run.title}
    for key, value in run.params.items():
        if isinstance(value, str):
            meta[f"param.{key}"] = coerce_meta(value)
    other = "vd" if kind == "idvg" else "vg"
    if other in cols and np.ptp(cols[other]) == 0:
        meta[other] = float(cols[other][0])
    return validate(Measurement(kind, cols, meta, source), run.lines)
