"""Fidelity matrix, reduced: the quasi-static mode and the fast path held to the tightened full deck at short
pulses, resistive lines and mid-range / random initial states (the full matrix is bench_spice.py
--fidelity-matrix, results in BENCHMARKS.md)."""
from __future__ import annotations

import numpy as np
import pytest

from fefet_spice.array import FastArray, FastPathLimitWarning
from fefet_spice.spice import fidelity as fm


@pytest.mark.slow
@pytest.mark.parametrize("width, r_line, init, pruned", [
    (10e-9, 200.0, "random", "mid"),
    (100e-9, 0.0, "mid", "g_min"),
])
def test_quasistatic_and_fast_path_against_the_tightened_deck(weight, sparsity, width, r_line, init, pruned):
    out = fm.run_case(weight, sparsity, fm.Case(4, width, r_line, init, pruned))
    assert out["full_max_kept_change_of_range"] > 0.01  # the update writes
    assert out["qs_vs_full_max_kept_diff_of_range"] < 0.005
    assert out["qs_vs_full_max_pruned_diff_of_range"] < 0.005
    assert out["qs_error_estimate_of_range"] < 0.005
    # the fast path refuses every case it cannot represent; where it does not, it is within 2 %
    assert out["fast_limits"] or out["fast_vs_full_max_kept_diff_of_range"] < 0.02
    assert any("shorter" in r for r in out["fast_limits"])
    # the full decks went through the watchdog's run ladder and none was too slow at its first attempt
    assert out["full_ladder"]["attempts"] >= 1 and out["full_ladder"]["halted"] == out["full_ladder"]["failed"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("width, r_line", [(1e-9, 0.0), (1e-3, 200.0)])
def test_quasistatic_holds_at_the_ends_of_the_pulse_width_range(weight, sparsity, width, r_line):
    """1 ns (+9 / -8 V: edges as long as the pulse) and 1 ms (+-3.2 V; pruned mid-range cells leak)."""
    out = fm.run_case(weight, sparsity, fm.Case(4, width, r_line, "random", "mid"))
    assert out["full_max_kept_change_of_range"] > 0.01 and out["full_max_pruned_change_of_range"] > 0.003
    assert out["qs_vs_full_max_kept_diff_of_range"] < 0.005
    assert out["qs_vs_full_max_pruned_diff_of_range"] < 0.005
    assert out["qs_error_estimate_of_range"] < 0.005
    assert out["fast_limits"]  # 1 ns: shorter than it represents; both: pruned cells away from G_min


def test_fidelity_cases_are_deterministic_and_warn_for_the_fast_path(weight):
    a, b = fm.build(fm.Case(4, 10e-9, 200.0, "random", "mid")), fm.build(fm.Case(4, 10e-9, 200.0, "random", "mid"))
    assert np.array_equal(a[0].weight, b[0].weight) and np.array_equal(a[2], b[2])
    state, sched, mask, cfg = a
    assert cfg.r_line == 200.0 and np.all(state.weight[~mask] == 0.0)
    fast = FastArray(weight, mask, n_domains=cfg.bins_weight, s_init=state.weight)
    with pytest.warns(FastPathLimitWarning, match="shorter.*pruned.*800 ohm along a line"):
        fast.apply(sched, cfg.r_line)
