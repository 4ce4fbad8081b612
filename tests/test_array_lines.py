"""Array decks with line resistance (issue 18): they run in ngspice as generated and agree with ideal lines."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

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


def test_decks_use_gear_and_contact_caps_only_with_line_resistance(weight, sparsity):
    """auto = gear for every deck (trap stalled on a line deck); trap only when asked. The contact-node caps
    are on the line-resistance decks only."""
    _, case = vau_deck(weight, sparsity, 2, 2, seed=1, cfg=CFG)
    wdev, sdev = binned_device(weight, 8), binned_device(sparsity, 1)
    ideal = array_deck(wdev, sdev, case["state"], case["schedule"], CFG, OPTS)
    line = array_deck(wdev, sdev, case["state"], case["schedule"], replace(CFG, r_line=50.0), OPTS)
    assert "method=gear" in ideal and "method=gear" in line and "Rdil0_1 " in line
    assert "Cdi di 0" in line and "Cdi di 0" not in ideal
    forced = array_deck(wdev, sdev, case["state"], case["schedule"], replace(CFG, r_line=50.0), replace(OPTS, method="trap"))
    assert "method=trap" in forced
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


def _cosim_vs_full(weight, sparsity, m: int, seed: int, r_line: float = 50.0):
    from fefet_spice.spice.cosim import run_array_cosim

    cfg = replace(CFG, r_line=r_line)
    _, case = vau_deck(weight, sparsity, m, m, seed=seed, cfg=cfg)
    mask, state, sched = case["mask"], case["state"], case["schedule"]
    co = run_array_cosim(weight, sparsity, state, sched, cfg, OPTS, backend="subprocess").state
    full = run_array(weight, sparsity, state, sched, cfg, OPTS, backend="subprocess").state
    span = _span(weight)
    g0, g_co, g_full = (weight_conductance(weight, s) for s in (state, co, full))
    err = np.abs(g_co - g_full)[mask] / span
    assert err.max() < 0.01, f"co-simulation differs from the full deck by up to {err.max():.4f} of range"
    for g in (g_co, g_full):  # same masking conclusion: pruned cells move < 1 % of the kept cells' change
        kept = np.abs(g - g0)[mask].mean()
        assert kept > 0.02 * span and np.abs(g - g0)[~mask].max() < 0.01 * kept
    for st in (co, full):  # sparsity FeFETs undisturbed in both
        assert np.all(st.sparsity.mean(-1)[mask] > 0.99) and np.all(st.sparsity.mean(-1)[~mask] < -0.99)


def test_cosim_matches_full_deck_4x4(weight, sparsity):
    _cosim_vs_full(weight, sparsity, 4, 4)


@pytest.mark.slow
def test_cosim_matches_full_deck_8x8(weight, sparsity):
    _cosim_vs_full(weight, sparsity, 8, 8)


@pytest.mark.parametrize("mode", ["cosim", "quasistatic"])
def test_fast_modes_half_select_same_conclusion_as_full_deck(weight, sparsity, mode):
    """One column written with 4 pulses through 50 ohm lines: in the co-simulation, the quasi-static mode
    and the full deck the selected column moves by more than a level (1/16 of range) and the half-selected
    columns by less than half a level."""
    from fefet_spice.array import row_column_vau
    from fefet_spice.spice.array import initial_state
    from fefet_spice.spice.cosim import run_array_cosim
    from fefet_spice.spice.quasistatic import run_array_quasistatic

    m, n = 2, 3
    op = weight.op
    sched = row_column_vau(np.zeros(m, int), np.array([4, 0, 0]), op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
    cfg = replace(CFG, r_line=50.0)
    state = initial_state(m, n, np.ones((m, n), bool), cfg, s_weight=-0.3)
    g0 = weight_conductance(weight, state)
    level = _span(weight) / 16
    fast = (run_array_cosim(weight, sparsity, state, sched, cfg, OPTS, backend="subprocess") if mode == "cosim"
            else run_array_quasistatic(weight, sparsity, state, sched, cfg, OPTS))
    outs = [fast.state, run_array(weight, sparsity, state, sched, cfg, OPTS, backend="subprocess").state]
    g_fast, g_full = (weight_conductance(weight, s) for s in outs)
    for g in (g_fast, g_full):
        assert np.all(g[:, 0] - g0[:, 0] > level) and np.abs(g[:, 1:] - g0[:, 1:]).max() < 0.5 * level
    assert np.abs(g_fast - g_full).max() < 0.01 * 16 * level


def test_line_deck_edges_converge_with_gear(weight, sparsity):
    """Regression (issue 18): the first three segments of the 8x8 VAU deck with 50 ohm lines, run with gear,
    stopped at the first pulse's falling edge (1.103 us, "timestep too small ... node dil2_0") while the
    channel's internal nodes di/si had no capacitance; with :data:`~fefet_spice.spice.device.C_CONTACT` it
    runs (about 3 s) and leaves the pruned cells' sparsity FeFETs untouched."""
    from fefet_spice.array.schedule import Schedule
    from fefet_spice.spice.device import C_CONTACT

    m, k = 8, 3
    cfg = replace(CFG, r_line=50.0)
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=cfg)
    sc = case["schedule"]
    sched = Schedule(dt=sc.dt[:k], bl=sc.bl[:, :k], dil=sc.dil[:, :k], dol=sc.dol[:, :k], spl=None,
                     v_spl_pre=sc.v_spl_pre, t_pre=sc.t_pre)
    deck = array_deck(binned_device(weight, 8), binned_device(sparsity, 1), case["state"], sched, cfg,
                      replace(OPTS, method="gear"))
    assert "method=gear" in deck and f"Cdi di 0 {C_CONTACT:.9e}" in deck
    vec = runner.run(deck, backend="subprocess")
    assert vec["time"][-1] == pytest.approx(float(np.sum(sched.dt)))
    s_end = np.array([[vec[f"v(xs{i}_{j}.q0)"][-1] for j in range(m)] for i in range(m)])
    assert np.all(np.where(case["mask"], s_end > 0.99, s_end < -0.99))


def test_frozen_network_keeps_every_capacitor_but_the_state_nodes(weight):
    """The co-simulation's frozen subcircuit keeps the channel's contact-node caps (without them the line
    decks stop with 'timestep too small') and the gate caps; only the domain-state caps go."""
    from fefet_spice.spice.cosim import frozen_subckt
    from fefet_spice.spice.device import subckt

    dev = binned_device(weight, 8)
    caps = lambda text: {ln.split()[0] for ln in text.split("\n") if ln.startswith("C")}  # noqa: E731
    full, frozen = caps(subckt(dev)), caps(frozen_subckt(dev))
    assert frozen == {"Cdi", "Csi", "Cgd", "Cgs"} and frozen < full
    assert caps(frozen_subckt(dev, contact_caps=False)) == {"Cgd", "Cgs"}
