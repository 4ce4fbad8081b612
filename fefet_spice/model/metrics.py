"""Small figures of merit computed from simulated or measured curves (pure numpy)."""
from __future__ import annotations

import numpy as np


def distinguishable_levels(g, min_step: float) -> int:
    """Number of read levels along a monotone-ish trajectory ``g`` [S] that differ from the previous
    accepted level by at least ``min_step`` [S] (greedy walk from the first point)."""
    g = np.asarray(g, dtype=float)
    if g.size == 0:
        return 0
    count, last = 1, g[0]
    for x in g[1:]:
        if abs(x - last) >= min_step:
            count, last = count + 1, x
    return count


def default_level_step(read_noise: float, g_range: float) -> float:
    """Smallest step [S] counted as a new level: 6 sigma of read noise (>= 1 % of the range if noiseless)."""
    return max(6.0 * read_noise, 0.01 * g_range if read_noise == 0 else 0.0)


def memory_window(vg, current, i_ref: float) -> float:
    """Memory window [V] of a double sweep: Vg where the up sweep and the down sweep cross ``i_ref`` [A].

    The sweep is split at its maximum gate voltage. Positive for a counter-clockwise (ferroelectric)
    loop of an n-type FeFET, negative for a clockwise (charge-trapping) loop.
    """
    vg = np.asarray(vg, float)
    current = np.abs(np.asarray(current, float))
    k = int(np.argmax(vg))
    v_up = _crossing(vg[: k + 1], current[: k + 1], i_ref)
    v_dn = _crossing(vg[k:][::-1], current[k:][::-1], i_ref)
    return v_up - v_dn


def _crossing(v, i, i_ref: float) -> float:
    """First gate voltage (in sweep order) where log current crosses log i_ref."""
    logi = np.log10(np.maximum(i, 1e-30))
    target = np.log10(i_ref)
    above = logi >= target
    if not above.any() or above.all():
        return float("nan")
    j = int(np.argmax(above))
    if j == 0:
        return float(v[0])
    f = (target - logi[j - 1]) / (logi[j] - logi[j - 1])
    return float(v[j - 1] + f * (v[j] - v[j - 1]))
