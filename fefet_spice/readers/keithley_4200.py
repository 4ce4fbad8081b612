"""Keithley 4200A-SCS (Clarius / KITE) data exported as CSV.

The export has optional leading lines (test name, settings) and then a header row with
terminal-named columns: ``DrainI``, ``DrainV``, ``GateI``, ``GateV``, ``SourceI``, ``Time`` — or the
generic ``Vforce``/``Imeas`` form with a terminal prefix or suffix (``GateVforce``, ``DrainImeas``,
``AV``/``AI`` ...). Values are SI (V, A, s). The native ``.xls``/``.xlsx`` workbooks need a spreadsheet
reader (openpyxl / xlrd) that is not a dependency of fefet_spice: export the sheet as CSV instead.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import DataError
from .base import Measurement, parse_value, read_text, validate, where
from .keysight_b1500 import sweep_kind

NAMES = {
    "draini": "id", "drainimeas": "id", "imeasd": "id", "id": "id", "drain_i": "id",
    "drainv": "vd", "drainvforce": "vd", "vforced": "vd", "vd": "vd", "drain_v": "vd",
    "gatei": "ig", "gateimeas": "ig", "imeasg": "ig", "ig": "ig", "gate_i": "ig",
    "gatev": "vg", "gatevforce": "vg", "vforceg": "vg", "vg": "vg", "gate_v": "vg",
    "time": "t", "t": "t", "timestamp": "t",
}


def _canon(name: str, columns: Mapping[str, str] | None) -> str | None:
    if columns:
        for canon, inst in columns.items():
            if inst.strip().lower() == name.strip().lower():
                return canon
    return NAMES.get(name.strip().lower().replace(" ", "").replace("(a)", "").replace("(v)", ""))


def read(path: str | os.PathLike, columns: Mapping[str, str] | None = None) -> Measurement:
    """Read a Keithley 4200 CSV export (one run per file)."""
    path = Path(path)
    if path.suffix.lower() in (".xls", ".xlsx"):
        raise DataError(f"{path}: Excel workbooks need openpyxl/xlrd, which fefet_spice does not "
                        "depend on; export the data sheet as CSV from Clarius and read that")
    lines = read_text(path).splitlines()
    if not any(s.strip() for s in lines):
        raise DataError(f"{path}: line 1: the file is empty")
    head = None
    for i, text in enumerate(lines):
        cells = [c.strip() for c in text.split(",")]
        mapped = [_canon(c, columns) for c in cells]
        if "id" in mapped and ("vg" in mapped or "vd" in mapped):
            head = (i, cells, mapped)
            break
    if head is None:
        raise DataError(f"{path}: wrong columns: no header row with a drain current (DrainI / Imeas) and "
                        "a gate or drain voltage (GateV / DrainV / Vforce)")
    i0, names, mapped = head
    rows, nos = [], []
    for i in range(i0 + 1, len(lines)):
        text = lines[i].strip()
        if not text:
            continue
        cells = text.split(",")
        if len(cells) != len(names):
            raise DataError(f"{where(path, i + 1)}: {len(cells)} values, the header has {len(names)} columns")
        rows.append([parse_value(c, "", path, i + 1, n) for c, n in zip(cells, names)])
        nos.append(i + 1)
    if not rows:
        raise DataError(f"{where(path, i0 + 1)}: no data rows after the header")
    arr = np.array(rows, dtype=float)
    cols = {}
    for j, canon in enumerate(mapped):
        if canon and canon not in cols:
            cols[canon] = arr[:, j]
    kind = sweep_kind(cols, path)
    meta = {"instrument": "Keithley 4200A-SCS (CSV export)"}
    if i0 > 0:
        meta["test"] = " ".join(c.strip() for c in lines[0].split(",") if c.strip())
    other = "vd" if kind == "idvg" else "vg"
    if other in cols and np.ptp(cols[other]) == 0:
        meta[other] = float(cols[other][0])
    return validate(Measurement(kind, cols, meta, str(path)), nos)
