"""A VAU update of a small array under a programming scheme, in ngspice, against the cell-level roles.

:func:`vau_update` runs one update (N column steps, one row step) of an M x N array (one deck per
row: with ideal lines the rows are independent), integrates the energy of every line source and returns the conductance change of kept and pruned
cells. :func:`predicted_column_energy` adds up the cell-level role energies of
:mod:`fefet_spice.spice.schemes` for the same column steps, which checks that the per-cell numbers the
cost model is given add up to what a whole array draws.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..array.schedule import row_column_vau
from ..array.schemes import Scheme
from ..params import FeFETParams
from .array import ArrayConfig, ArrayState, initial_state, run_array, weight_conductance
from .deck import energy
from .schemes import OPTIONS, role_pulses


def vau_update(weight: FeFETParams, sparsity: FeFETParams, scheme: Scheme, mask, s0, r, c, amplitude: float,
               width: float, gap: float | None = None, backend: str = "auto", with_energy: bool = True) -> dict:
    """One VAU update under ``scheme`` (target drive ``amplitude`` [V], both polarities) of an M x N array.

    Returns ``energy_j`` (all line sources, whole update; None without ``with_energy``), ``g0`` and ``g1``
    (M, N) [S], the final state and the schedule."""
    mask = np.asarray(mask, bool)
    m, n = mask.shape
    gap = float(width if gap is None else gap)
    sched = row_column_vau(r, c, amplitude, -amplitude, width, gap, scheme=scheme)
    cfg = ArrayConfig(topology=scheme.topology)
    state = initial_state(m, n, mask, cfg)
    state.weight[:] = np.asarray(s0, dtype=float)[..., None]
    if not with_energy:
        final = run_array(weight, sparsity, state, sched, cfg, OPTIONS, backend=backend).state
        e = None
    else:
        # ideal lines: rows are independent and every line voltage is fixed, so the energy (linear in the
        # source currents) of the whole array is the sum over one-row decks; ngspice time grows faster
        # than linearly with the deck size, so this keeps 16 x 16 practical
        final, e = state.copy(), 0.0
        for i in range(m):
            sub = replace(sched, bl=sched.bl[i:i + 1], dil=sched.dil[i:i + 1])
            part = ArrayState(state.weight[i:i + 1].copy(), state.sparsity[i:i + 1].copy())
            run = run_array(weight, sparsity, part, sub, cfg, OPTIONS, save_currents=True, backend=backend)
            vec = run.vectors
            src = {"bl0": ("bl0", "0"), **{f"dol{j}": (f"dol{j}", "0") for j in range(n)}}
            if not sched.dil_float:
                src["dil0"] = ("dil0", "0")
            e += energy(vec["time"], vec, src, 0.0, float(sched.dt.sum()))
            final.weight[i], final.sparsity[i] = run.state.weight[0], run.state.sparsity[0]
    return {"energy_j": e, "g0": weight_conductance(weight, state), "g1": weight_conductance(weight, final),
            "state": final, "schedule": sched}


def role_energies(weight: FeFETParams, sparsity: FeFETParams, scheme: Scheme, amplitude: float, width: float,
                  gap: float | None = None, backend: str = "auto") -> dict[str, tuple[float, float]]:
    """Energy per up and per down pulse of each column-step role, cell level [J]."""
    gap = float(width if gap is None else gap)
    a = float(amplitude)
    out = {}
    for role, s0 in (("full", 0.0), ("half", 0.0), ("masked_sel", -1.0), ("masked_half", -1.0)):
        row, j = role_pulses(weight, sparsity, scheme, role, [a, -a], width, gap, s_init=s0, backend=backend)
        n = row.energy_channel.shape[0]
        rest = (row.energy_total - row.energy_channel.sum(axis=0)) / n
        e = rest + row.energy_channel[j]
        out[role] = (float(e[0]), float(e[1]))
    return out


def predicted_column_energy(roles: dict[str, tuple[float, float]], mask, c) -> float:
    """Energy of the column steps of a VAU update [J] from the cell roles: per pulse of column j, its kept
    cells full-selected, the other kept cells half-selected, pruned cells masked (selected or not)."""
    mask = np.asarray(mask, bool)
    total = 0.0
    for j, cnt in enumerate(np.asarray(c, dtype=int)):
        sel = mask[:, j].sum()
        kept_other = mask.sum() - sel
        pr_sel = (~mask[:, j]).sum()
        pr_other = (~mask).sum() - pr_sel
        k = 0 if cnt > 0 else 1
        total += abs(cnt) * (sel * roles["full"][k] + kept_other * roles["half"][k]
                             + pr_sel * roles["masked_sel"][k] + pr_other * roles["masked_half"][k])
    return float(total)
