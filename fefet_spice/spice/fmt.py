"""Deterministic netlist text: fixed number format and validated names only.

Every token of a deck is either a literal keyword of this package, a name that passed
:func:`fefet_spice.params.check_name`, or a number formatted by :func:`num`. :func:`check_deck`
re-checks the finished text, so a parameter file cannot smuggle a control line into ngspice.
"""
from __future__ import annotations

import math
import re

from ..errors import ParamError
from ..params import check_name

FLOAT_FMT = "%.9e"
_FORBIDDEN = re.compile(r"\.control|\.endc|\bshell\b|\.include|\.lib\b|\bsource\b", re.IGNORECASE)


def num(x: float) -> str:
    """Format a finite number as ``%.9e`` (the only number format in a deck)."""
    x = float(x)
    if not math.isfinite(x):
        raise ParamError(f"netlist number must be finite, got {x!r}")
    return FLOAT_FMT % x


_RESERVED = re.compile(r"shell|control|endc|include", re.IGNORECASE)


def name(path: str, value: str) -> str:
    """A validated identifier (letters, digits, underscore) for a netlist; no ngspice command words."""
    check_name(path, value)
    if _RESERVED.search(value):
        raise ParamError(f"{path}: {value!r} contains a reserved ngspice word; choose another name")
    return value


def node(value: str) -> str:
    """A validated node name: ``0`` (ground) or an identifier."""
    return value if value == "0" else check_name("node", value)


def check_deck(text: str, allow_lib: bool = False) -> str:
    """Reject a deck carrying control statements or non-printable characters; return it unchanged."""
    for i, line in enumerate(text.split("\n"), 1):
        if any((ord(c) < 32 and c != "\t") or ord(c) > 126 for c in line):
            raise ParamError(f"netlist line {i}: non-printable character")
        hit = _FORBIDDEN.search(line)
        if hit and not (allow_lib and hit.group(0).lower() in (".include", ".lib")):
            raise ParamError(f"netlist line {i}: forbidden token {hit.group(0)!r}")
    return text


def params_block(values: dict[str, float]) -> list[str]:
    """Sorted ``.param`` lines (deterministic)."""
    return [f".param {name('param', k)}={num(v)}" for k, v in sorted(values.items())]
