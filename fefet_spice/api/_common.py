"""What every API result shares: display quantities (value + SI unit) for the report and summaries."""
from __future__ import annotations

import math
from typing import Any


def quantity(label: str, value, unit: str, stderr=None, note: str | None = None, warn: bool = False) -> dict:
    """One displayable number: ``value`` in the SI ``unit`` (the report adds the prefix), optional
    standard error, a short note shown beside it, and whether it is a warning."""
    q: dict[str, Any] = {"label": label, "value": _num(value), "unit": unit}
    if stderr is not None and _num(stderr) is not None:
        q["stderr"] = _num(stderr)
    if note:
        q["note"] = note
    if warn:
        q["warn"] = True
    return q


def _num(x):
    if x is None:
        return None
    if isinstance(x, (int, bool)):
        return x
    x = float(x)
    return x if math.isfinite(x) else None


def save_json_and_figure(data: dict, make_figure, json_path=None, plot_path=None) -> list:
    """Write ``data`` as JSON at ``json_path`` and ``make_figure()`` as a PNG at ``plot_path`` (each optional);
    returns the paths written."""
    from ..io.atomic import save_figure, write_json

    out = []
    if json_path:
        out.append(write_json(json_path, data))
    if plot_path:
        out.append(save_figure(make_figure(), plot_path))
    return out
