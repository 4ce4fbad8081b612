"""Numbers for people: SI prefixes and units (6.44 µS, 0.41 pJ, 19.7 s)."""
from __future__ import annotations

import math

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
             (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a"))
PREFIXED = {"S", "A", "V", "J", "s", "F", "Ω", "W", "m", "Hz", "C", "V/dec"}
"""Units that take an SI prefix; every other unit (%, ×, levels, m²/(V·s)) is printed as is."""


def si(value, unit: str = "", digits: int = 3) -> str:
    """``value`` [SI base unit] with a prefix and ``digits`` significant digits: ``si(6.44e-6, "S")`` ->
    ``"6.44 µS"`` (mantissa in [0.1, 100)). None or NaN gives ``"n/a"``; units outside :data:`PREFIXED` get no prefix."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or isinstance(value, int) and unit not in PREFIXED:
        return f"{value:,}".replace(",", " ") + (f" {unit}" if unit else "")
    x = float(value)
    if not math.isfinite(x):
        return "n/a"
    if unit == "%":
        return f"{_sig(100.0 * x, digits)} %"
    if unit not in PREFIXED or x == 0.0:
        if x.is_integer() and abs(x) < 1e6 and unit and unit[0].isalpha():  # counts: "20 operations", not 20.0
            return f"{int(x):,}".replace(",", " ") + f" {unit}"
        return f"{_sig(x, digits)}" + (f" {unit}" if unit else "")
    mag = abs(x)
    if unit == "s" and mag >= 1.0:  # durations: 123 s and 2 400 s, never 0.123 ks
        return f"{_sig(x, digits)} s"
    scale, prefix = next(((s, p) for s, p in _PREFIXES if mag >= 0.09995 * s), _PREFIXES[-1])  # 0.41 pJ, 19.7 s
    if unit == "V/dec" and prefix not in ("", "m"):
        scale, prefix = 1e-3, "m"
    return f"{_sig(x / scale, digits)} {prefix}{unit}"


def _sig(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, no exponent for 1e-3 <= |x| < 1e6."""
    if x == 0.0:
        return "0"
    mag = abs(x)
    if 1e-3 <= mag < 1e6:
        decimals = max(digits - 1 - math.floor(math.log10(mag)), 0)
        text = f"{x:.{decimals}f}"
        if mag >= 1000:
            text = f"{round(x):,}".replace(",", " ")
        return text
    m, e = f"{x:.{digits - 1}e}".split("e")
    return f"{m}×10{str(int(e)).translate(_SUPERSCRIPT)}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def si_pm(value, stderr, unit: str = "", digits: int = 3) -> str:
    """``value ± stderr`` in one prefix: ``si_pm(3.21, 0.012, "V")`` -> ``"3.21 ± 0.012 V"``."""
    text = si(value, unit, digits)
    if stderr is None or value is None or not math.isfinite(float(stderr)) or text == "n/a":
        return text
    num, _, u = text.partition(" ")
    if unit in PREFIXED and 0 < abs(float(stderr)) < 1e-3 * abs(float(value)):
        return f"{text} ± {si(stderr, unit, 2)}"  # a tiny error in its own prefix: 2.00 V ± 0.38 mV
    if unit in PREFIXED and float(value) != 0.0:
        prefix = u[: len(u) - len(unit)]
        scale = dict((p, s) for s, p in _PREFIXES).get(prefix, 1.0)
        if unit == "V/dec" and prefix == "m":
            scale = 1e-3
        return f"{num} ± {_sig(float(stderr) / scale, 2)} {u}"
    if unit == "%":
        return f"{num} ± {_sig(100.0 * float(stderr), 2)} %"
    return f"{num} ± {_sig(float(stderr), 2)}" + (f" {u}" if u else "")
