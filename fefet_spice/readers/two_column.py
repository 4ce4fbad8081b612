"""Plain two-column text files (whitespace, comma, semicolon or tab separated) with units given by the caller.

Lines starting with ``#`` or ``%`` are comments; one non-numeric first line is taken as a header and
skipped. Example: ``read(path, kind='idvg', x=('vg', 'V'), y=('id', 'uA'), metadata={'vd': 0.1})``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import DataError, shown
from .base import KINDS, Measurement, parse_value, read_text, to_si, validate, where

DEFAULT_AXES = {"idvg": ("vg", "id"), "idvd": ("vd", "id")}
_SPLIT = re.compile(r"[,;\t ]+")


def read(path: str | os.PathLike, kind: str, x_unit: str, y_unit: str, x: str | None = None,
         y: str | None = None, metadata: Mapping[str, Any] | None = None) -> Measurement:
    """Read a two-column file.

    Parameters
    ----------
    path : path-like
    kind : {'idvg', 'idvd'}
    x_unit, y_unit : str
        Units of the two columns as given by the caller (e.g. 'V', 'uA').
    x, y : str, optional
        Canonical names (default: vg/id for idvg, vd/id for idvd).
    metadata : mapping, optional
        Extra metadata (e.g. ``{'vd': 0.1}``), numbers in SI.
    """
    path = Path(path)
    if kind not in DEFAULT_AXES:
        raise DataError(f"{path}: two-column files hold 'idvg' or 'idvd' data, not {shown(kind)}"
                        f" (kinds: {', '.join(KINDS)})")
    x = x or DEFAULT_AXES[kind][0]
    y = y or DEFAULT_AXES[kind][1]
    fx, fy = to_si(x, x_unit, path), to_si(y, y_unit, path)
    lines = read_text(path).splitlines()
    rows, nos, seen_header = [], [], False
    for i, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or text[0] in "#%":
            continue
        cells = [c for c in _SPLIT.split(text) if c]
        if not rows and not seen_header and not re.match(r"^[-+.\d]", cells[0]):
            seen_header = True
            continue
        if len(cells) != 2:
            raise DataError(f"{where(path, i)}: expected 2 columns, found {len(cells)}")
        rows.append((parse_value(cells[0], "", path, i, x) * fx, parse_value(cells[1], "", path, i, y) * fy))
        nos.append(i)
    if not rows:
        raise DataError(f"{where(path, 1)}: the file is empty (no data rows)")
    arr = np.array(rows)
    meta = {"instrument": "unknown (two-column file)", **dict(metadata or {})}
    return validate(Measurement(kind, {x: arr[:, 0], y: arr[:, 1]}, meta, str(path)), nos)
