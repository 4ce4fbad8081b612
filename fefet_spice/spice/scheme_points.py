"""One programming scheme at one pulse width, measured in ngspice (cell level).

:func:`measure_point` gives the full-select write energy per pulse, the half-select gate and channel
energies, the energies of pruned (masked) cells, the number of distinguishable levels along a train
of identical pulses from G_min, and the disturb of half-selected and masked cells after a given
number of pulses, in levels.

Disturb after many pulses: ngspice measures the drive the weight ferroelectric of a half-selected or
masked cell actually sees during a pulse (``v(fe)``, with floating gates, pass drops and floating DILs
in it); the domain law (SPEC 1.1) is exact for piecewise-constant drive and the drive is zero in the
gaps, so ``n`` pulses of width ``w`` act as one segment of ``n w`` at that drive, which
:class:`~fefet_spice.model.simulate.DomainEngine` applies to the same 12 SPICE bins. A few pulses of
the same deck check the two against each other (``disturb_check``).

The amplitude that gives the same update per pulse as the reference pulse (the device's own
``op.v_pulse_up`` / ``op.t_pulse``) is solved with the same law and the fitted alpha and tau0 (nothing
rescaled): P/Ps after ``n_match`` pulses from G_min must match.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..array.schemes import Scheme
from ..model.channel import drain_current
from ..model.metrics import distinguishable_levels
from ..model.ferro import domain_activation
from ..model.simulate import DeviceSample, DomainEngine, DomainState, threshold_voltage
from ..params import FeFETParams
from .array import ArrayConfig
from .schemes import role_pulses

LEVELS_USED = 16
"""Levels of one weight cell in training (paper: 4 bit); one level = G range / 15 in the disturb budget."""
READ_NOISE_FLOOR = 0.017e-6
"""Read noise [S] (paper, SPEC 1) used for distinguishable levels when the parameters carry none."""


def _engine(weight: FeFETParams, bins: int) -> DomainEngine:
    fp = replace(weight.ferro, n_domains=bins)
    up, dn = domain_activation(fp)
    return DomainEngine(fp, DeviceSample(up[None], dn[None], np.zeros(1)))


def _p_after(weight: FeFETParams, drive: float, width: float, n: int, s0: float, bins: int) -> float:
    eng = _engine(weight, bins)
    st = DomainState(np.full((1, bins), float(s0)))
    for _ in range(n):
        eng.apply(st, drive, width)
    return float(st.p_norm[0])


def equal_update_amplitude(weight: FeFETParams, width: float, n_match: int = 8,
                           bins: int = ArrayConfig().bins_weight) -> float:
    """Drive [V] whose ``n_match`` pulses of ``width`` [s] from G_min give the same P/Ps as the
    device's reference pulses (``op.v_pulse_up``, ``op.t_pulse``); bisection on the exact domain law."""
    op = weight.op
    target = _p_after(weight, op.v_pulse_up, op.t_pulse, n_match, -1.0, bins)
    lo, hi = 0.2 * op.v_pulse_up, 5.0 * op.v_pulse_up
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _p_after(weight, mid, width, n_match, -1.0, bins) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def circuit_equal_update_amplitude(weight: FeFETParams, sparsity: FeFETParams, scheme: Scheme, width: float,
                                   n_match: int = 8, iterations: int = 8, float_cols: int = 8,
                                   backend: str = "auto", polarity: int = 1) -> tuple[float, float]:
    """Target drive [V] that gives, *in the ngspice cell* under ``scheme``, the same P/Ps after ``n_match``
    pulses from G_min as the device's reference pulses (bisection between the ideal-law amplitude and
    1.6x it; the circuit can only lose drive: pass drops, gate RC, floating lines). Returns the
    amplitude and the P/Ps mismatch left [-] (large if even 1.6x does not reach the target)."""
    op = weight.op
    sg = 1.0 if polarity > 0 else -1.0
    v_ref = op.v_pulse_up if sg > 0 else op.v_pulse_dn
    target = sg * _p_after(weight, v_ref, op.t_pulse, n_match, -sg, ArrayConfig().bins_weight)
    ideal = equal_update_amplitude(weight, width, n_match)

    def p_at(a):
        row, j = role_pulses(weight, sparsity, scheme, "full", [sg * a] * n_match, width, float(width), s_init=-sg,
                             n_cols=float_cols, backend=backend)
        return sg * float(row.p_norm[j, -1])
    lo, hi = ideal, 1.6 * ideal
    if p_at(lo) >= target:
        return lo, p_at(lo) - target
    p_hi = p_at(hi)
    if p_hi < target:
        return hi, p_hi - target
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if p_at(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), p_at(0.5 * (lo + hi)) - target


def conductance(weight: FeFETParams, p_norm) -> np.ndarray:
    """Read conductance [S] at net polarization ``p_norm`` (numpy channel, the deck's equations)."""
    op = weight.op
    return drain_current(weight.channel, op.v_read_g, op.v_read_d, threshold_voltage(weight, p_norm)) / op.v_read_d


def level_step(weight: FeFETParams) -> float:
    """One level [S]: the full conductance range / (LEVELS_USED - 1)."""
    g = conductance(weight, np.array([-1.0, 1.0]))
    return float(g[1] - g[0]) / (LEVELS_USED - 1)


def disturb_levels(weight: FeFETParams, drive: float, duration: float, s0: float,
                   bins: int = ArrayConfig().bins_weight) -> float:
    """|Delta G| in levels after ``duration`` [s] of constant ``drive`` [V] from all bins at ``s0``."""
    eng = _engine(weight, bins)
    st = DomainState(np.full((1, bins), float(s0)))
    eng.apply(st, float(drive), float(duration))
    g = conductance(weight, np.array([s0, st.p_norm[0]]))
    return float(abs(g[1] - g[0]) / level_step(weight))


def _cell_energy(row, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pulse (total, channel) energy of cell j: its channel plus an equal share of the rest."""
    n = row.energy_channel.shape[0]
    rest = (row.energy_total - row.energy_channel.sum(axis=0)) / n
    return rest + row.energy_channel[j], row.energy_channel[j]


def measure_point(weight: FeFETParams, sparsity: FeFETParams, scheme: Scheme, width: float, amplitude: float,
                  disturb_pulses: dict[str, float], n_train: int = 24, n_probe: int = 3, gap: float | None = None,
                  float_cols: int = 8, backend: str = "auto", amplitude_down: float | None = None) -> dict:
    """Measure one (scheme, width, amplitude) point in ngspice (``amplitude_down``: the depression
    drive if it differs).

    ``disturb_pulses`` holds the number of pulses a cell sees in a training run as ``half``,
    ``masked_sel`` and ``masked_half``; half of them are taken in the worse polarity (pulses are split
    between polarities), all arriving before any opposite pulse (worst case).
    """
    gap = float(width if gap is None else gap)
    a = float(amplitude)
    ad = a if amplitude_down is None else abs(float(amplitude_down))
    full, jf = role_pulses(weight, sparsity, scheme, "full", [a] * n_train + [-ad] * n_train, width, gap,
                           s_init=-1.0, n_cols=float_cols, backend=backend)
    e_full, e_full_ch = _cell_energy(full, jf)
    g = conductance(weight, np.concatenate([[-1.0], full.p_norm[jf]]))
    noise = max(weight.read_noise, READ_NOISE_FLOOR)
    lv_up = distinguishable_levels(g[:n_train + 1], 6 * noise)
    lv_dn = distinguishable_levels(g[n_train:], 6 * noise)
    step = level_step(weight)
    out = {"scheme": scheme.name, "topology": scheme.topology, "width_s": float(width), "amplitude_v": a,
           "amplitude_down_v": ad, "bl_v": scheme.col_bl * max(a, ad), "write_energy_per_pulse_j": float(e_full.mean()),
           "write_channel_energy_j": float(e_full_ch.mean()),
           "selected_drive_v": float(np.abs(full.drive[jf]).mean()),
           "sparsity_p_final": float(full.sparsity_p[jf]),
           "levels_up": int(lv_up), "levels_down": int(lv_dn), "levels": int(min(lv_up, lv_dn))}
    drives = [a] * n_probe + [-ad] * n_probe
    roles = {"half": 0.0, "masked_sel": -1.0, "masked_half": -1.0}
    dist = {}
    for role, s0 in roles.items():
        row, j = role_pulses(weight, sparsity, scheme, role, drives, width, gap, s_init=s0, n_cols=float_cols,
                             backend=backend)
        e_tot, e_ch = _cell_energy(row, j)
        d_up, d_dn = float(row.drive[j, :n_probe].mean()), float(row.drive[j, n_probe:].mean())
        out[f"{role}_energy_j"] = float(e_tot.mean())
        out[f"{role}_channel_energy_j"] = float(e_ch.mean())
        out[f"{role}_drive_up_v"], out[f"{role}_drive_down_v"] = d_up, d_dn
        n = 0.5 * float(disturb_pulses.get(role, 0.0))
        worst = max(disturb_levels(weight, d, n * width, s0) for d in (d_up, d_dn))
        dist[role] = worst
        # check: the deck's own first n_probe pulses against the exact law at the measured drive
        ng = abs(conductance(weight, row.p_norm[j, n_probe - 1]) - conductance(weight, s0)) / step
        out[f"{role}_disturb_check"] = {"ngspice_levels": float(ng),
                                        "law_levels": disturb_levels(weight, d_up, n_probe * width, s0),
                                        "pulses": n_probe}
    out["half_select_gate_energy_j"] = out["half_energy_j"] - out["half_channel_energy_j"]
    out["half_select_channel_energy_j"] = out["half_channel_energy_j"]
    out["half_disturb_levels"] = dist["half"]
    out["masked_disturb_levels"] = max(dist["masked_sel"], dist["masked_half"])
    out["disturb_levels"] = max(out["half_disturb_levels"], out["masked_disturb_levels"])
    out["disturb_pulses"] = {k: float(v) for k, v in disturb_pulses.items()}
    return out
