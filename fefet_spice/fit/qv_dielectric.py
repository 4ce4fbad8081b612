"""Background permittivity of an MFM capacitor from the high-field slope of its Q-V branches.

Where a branch recedes from the largest |V| of a trace, switching has finished (every domain the drive
can switch has switched) and the slope dQ/dV is the non-switching response alone. Between 95 % and 70 %
of max|V| on such branches MFM_scheme1 gives 3.9-4.2 uC/cm^2/V (eps_r 44.3-47.5 at 10 nm, mean 45.5); at
low field the slope is ~4.8 uC/cm^2/V, and a least-squares fit with eps_r free takes that (eps_r ~55) and
hands the extra low-field slope, which is hysteretic, to the dielectric instead of to switching. Cold fits
of MFM_scheme1 without one sweep predict the held-out sweeps better on average with eps_r held at the
high-field slope (mean 1.12 % against 1.23 %; the partial negative excursions 0.49 / 0.64 % against
1.35 / 2.17 %, the first down-sweep 2.78 % against 1.76 %; BENCHMARKS.md, "Capacitor: the permittivity
from the high-field slope"), so the Q-V fit holds eps_r there by default (``--free eps_r`` frees it).
"""
from __future__ import annotations

import numpy as np

from ..model.capacitor import EPS0
from .qv import sweep_segments

WINDOWS = ((0.95, 0.75), (0.9, 0.7))
"""``(from, to)`` fractions of max|V|: the part of a receding branch whose slope is measured."""
MIN_SAMPLES = 20
"""Fewer samples in a window: that branch is not used."""


def high_field_slopes(traces, masks=None) -> list[dict]:
    """Slope dQ/dV [C/m^2/V] of every branch that starts at >= 90 % of its trace's max|V| and recedes from
    it, fitted (least squares, Q linear in V) over every window of :data:`WINDOWS` on the samples of that
    sign (only samples where ``masks[i]`` is true)."""
    out = []
    for i, tr in enumerate(traces):
        vmax = float(np.max(np.abs(tr.v)))
        keep = np.ones(len(tr), bool) if masks is None else np.asarray(masks[i], bool)
        for a, b in sweep_segments(tr):
            v, q, k = tr.v[a:b], tr.q[a:b], keep[a:b]
            if vmax <= 0 or abs(v[0]) < 0.9 * vmax:
                continue
            for hi, lo in WINDOWS:
                sel = k & (np.sign(v) == np.sign(v[0])) & (np.abs(v) <= hi * vmax) & (np.abs(v) >= lo * vmax)
                if sel.sum() >= MIN_SAMPLES and np.ptp(v[sel]) > 0:
                    out.append({"file": tr.source, "samples": [int(a), int(b)], "window": [hi, lo],
                                "slope": float(np.polyfit(v[sel], q[sel], 1)[0])})
    return out


def high_field_permittivity(traces, t_fe: float, masks=None) -> tuple[float, float, int] | None:
    """``(eps_r, stderr, number of branches)`` from :func:`high_field_slopes` (mean over branches and
    windows; stderr the standard deviation across them, the spread a choice of branch or window moves it),
    or None when no trace has a branch receding from its largest |V|."""
    rows = high_field_slopes(traces, masks)
    if not rows:
        return None
    eps = np.array([r["slope"] for r in rows]) * t_fe / EPS0
    branches = len({(r["file"], tuple(r["samples"])) for r in rows})
    return float(eps.mean()), float(eps.std(ddof=1)) if len(eps) > 1 else float("nan"), branches


def held_reason(eps: float, sd: float, n: int) -> str:
    """The fit file's ``held`` entry for eps_r measured by :func:`high_field_permittivity`."""
    return (f"{eps:.3g} from the slope of {n} branch(es) receding from the largest |V| (95-70 % of max|V|: "
            f"switching has finished there), stderr {sd:.2g} across branches and windows; fitted (--free eps_r) "
            "it takes the low-field slope (about 55 on MFM_scheme1) and predicted held-out sweeps worse on average")
