"""Array decks with line resistance (issue 18): they run in ngspice as generated and agree with ideal lines."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from fefet_spice.spice import runner
from fefet_spice.spice.array import ArrayConfig, ArrayState, array_deck, run_array, weight_conductance
from fefet_spice.spice.deck import SolverOptions
from fefet_spice.spice.device import binned_device
from fefet_spice.spice.library import vau_deck

CFG = ArrayConfig(bins_weight=8, bins_sparsity=1)
OPTS = SolverOptions(reltol=3e-3, t_edge=1e-8)


def _span(w) -> float:
    g = weight_conductance(w, ArrayState(np.array([[[1.0]], [[-1.0]]]), np.ones((2, 1, 1))))
    return float(g[0, 0] - g[1, 0])


def test_line_decks_use_trap_and_ideal_decks_gear(weight, sparsity):
    _, case = vau_deck(weight, sparsity, 2, 2, seed=1, cfg=CFG)
    wdev, sdev = binned_device(weight, 8), binned_device(sparsity, 1)
    ideal = array_deck(wdev, sdev, case["state"], case["schedule"], CFG, OPTS)
    line = array_deck(wdev, sdev, case["state"], case["schedule"], replace(CFG, r_line=50.0), OPTS)
    assert "method=gear" in ideal and "method=trap" in line and "Rdil0_1 " in line
    forced = array_deck(wdev, sdev, case["state"], case["schedule"], replace(CFG, r_line=50.0), replace(OPTS, method="gear"))
    assert "method=gear" in forced
    assert ".options klu" in array_deck(wdev, sdev, case["state"], case["schedule"], CFG, replace(OPTS, klu=True))


def test_vau_with_line_resistance_runs_and_matches_ideal_lines(weight, sparsity):
    """A 4x4 VAU update with 50 ohm per segment on BL, DIL and DOL, run as generated (no retry ladder):
    write currents are gate-charging currents (nA to uA), so the IR drop is far below a mV and every kept
    cell must land within 0.5 % of the conductance range of the ideal-line result; pruned cells stay put."""
    m = 4
    cfg = replace(CFG, r_line=50.0)
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=cfg)
    mask, state, sched = case["mask"], case["state"], case["schedule"]
    deck = array_deck(binned_device(weight, 8), binned_device(sparsity, 1), state, sched, cfg, OPTS)
    vec = runner.run(deck, backend="subprocess")
    new = state.copy()
    for i in range(m):
        for j in range(m):
            new.weight[i, j] = [vec[f"v(xw{i}_{j}.q{k})"][-1] for k in range(8)]
    ideal = run_array(weight, sparsity, state, sched, CFG, OPTS, backend="subprocess").state
    span = _span(weight)
    g0, g_line, g_ideal = (weight_conductance(weight, s) for s in (state, new, ideal))
    kept_change = np.abs(g_ideal - g0)[mask].mean()
    assert mask.sum() >= 2 and kept_change > 0.02 * span  # the update really writes
    err = np.abs(g_line - g_ideal)[mask] / span
    assert err.max() < 0.005, f"line resistance moved kept cells by up to {err.max():.4f} of range"
    assert np.abs(g_line - g0)[~mask].max() < 0.01 * kept_change
