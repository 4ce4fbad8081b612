"""Fidelity cases: one VAU update of an M x M array at a pulse width, line resistance and initial state,
run by the reference deck, the quasi-static network mode and the numpy fast path, and compared.

The reference is the full ngspice deck tightened (gear, reltol 1e-4, 20 steps per shortest segment).
Pulse amplitudes per width are the ones that write a comparable part of the range (shorter pulses need
higher drive): 1 us +-3.6 V, 100 ns +-4.2 V, 10 ns +5.5/-4.7 V (the matrix); 1 ns +9/-8 V and 1 ms +-3.2 V
check the ends of the pulse-width range (they move kept cells by up to 17 % and 6 % of the range at 4x4). The gap
after each pulse equals its width.
Differences are the largest kept-cell conductance difference as a fraction of G_max - G_min.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..array.schedule import Schedule, row_column_vau
from ..params import FeFETParams
from .array import ArrayConfig, ArrayState, initial_state, weight_conductance
from .deck import SolverOptions

AMPLITUDES = {1e-3: (3.2, -3.2), 1e-6: (3.6, -3.6), 100e-9: (4.2, -4.2), 10e-9: (5.5, -4.7), 1e-9: (9.0, -8.0)}
"""Pulse width [s] -> (up, down) amplitude [V] of the matrix."""
STATES = {"g_min": -1.0, "mid": 0.0}
"""Named initial weight states (mean polarization s) ; 'random' draws s uniformly in [-1, 1] per cell."""
REFERENCE = SolverOptions(method="gear", reltol=1e-4, max_steps_per_segment=20.0)
"""The tightened reference deck."""
REFERENCE_BY_WIDTH = {1e-3: SolverOptions(method="gear", reltol=1e-4, max_steps_per_segment=0.01)}
"""Pulse width [s] -> reference deck where :data:`REFERENCE` does not fit: its largest step is 1/20 of the
shortest segment (the 100 ns lead-in), which at 1 ms pulses means two million steps; there the largest step
is 10 us (1/100 of the pulse; the edges stay breakpoints). 1 us gave the same conductances within 2e-8 of
the range on the 4x4 case."""
CONFIG = ArrayConfig(bins_weight=8, bins_sparsity=1)


@dataclass(frozen=True)
class Case:
    size: int
    pulse_width_s: float
    r_line_ohm: float
    initial_state: str
    pruned_state: str
    seed: int = 0
    sparsity_frac: float = 0.75

    def key(self) -> dict:
        return {"size": self.size, "pulse_width_s": self.pulse_width_s, "r_line_ohm": self.r_line_ohm,
                "initial_state": self.initial_state, "pruned_state": self.pruned_state, "seed": self.seed}


def _state_values(name: str, shape, rng: np.random.Generator) -> np.ndarray:
    if name == "random":
        return rng.uniform(-1.0, 1.0, shape)
    return np.full(shape, STATES[name])


def build(case: Case) -> tuple[ArrayState, Schedule, np.ndarray, ArrayConfig]:
    """(initial state, schedule, mask, config) of ``case`` (deterministic in its seed)."""
    m = case.size
    rng = np.random.default_rng(1000 * case.seed + m)
    mask = rng.random((m, m)) >= case.sparsity_frac
    r, c = rng.integers(-2, 3, m), rng.integers(-2, 3, m)
    up, dn = AMPLITUDES[case.pulse_width_s]
    tw = case.pulse_width_s
    sched = row_column_vau(r, c, up, dn, tw, tw)
    cfg = replace(CONFIG, r_line=case.r_line_ohm)
    state = initial_state(m, m, mask, cfg)
    kept = _state_values(case.initial_state, (m, m), rng)
    pruned = _state_values(case.pruned_state, (m, m), rng)
    state.weight[:] = np.where(mask, kept, pruned)[..., None]
    return state, sched, mask, cfg


def span(weight: FeFETParams) -> float:
    """G_max - G_min of the weight FeFET at its read point [S]."""
    g = weight_conductance(weight, ArrayState(np.array([[[1.0]], [[-1.0]]]), np.ones((2, 1, 1))))
    return float(g[0, 0] - g[1, 0])


def run_case(weight: FeFETParams, sparsity: FeFETParams, case: Case, full: bool = True,
             reference: SolverOptions | None = None, backend: str = "subprocess", reference_g=None) -> dict:
    """One case: quasi-static mode, fast path (None where it refuses) and, if ``full``, the reference deck
    (``reference``, default :data:`REFERENCE` or the pulse width's entry of :data:`REFERENCE_BY_WIDTH`).
    ``reference_g``: the reference deck's final weight conductances [S] (M, M) of an earlier run of this case
    and ``reference`` (the deck is then not run; ``full_wall_s`` is None, ``reference_g`` is returned as
    ``full_g``). Returns the case keys, the differences (fractions of range) and the CPU-independent counters."""
    import time

    from ..array.fast import FastArray
    from .array import run_array
    from .quasistatic import run_array_quasistatic

    if reference is None:
        reference = REFERENCE_BY_WIDTH.get(case.pulse_width_s, REFERENCE)
    state, sched, mask, cfg = build(case)
    sp_ = span(weight)
    g0 = weight_conductance(weight, state)
    out = case.key()
    t0 = time.process_time()
    qs = run_array_quasistatic(weight, sparsity, state, sched, cfg, replace(reference, method="auto"))
    out["qs_cpu_s"] = time.process_time() - t0
    out["qs_error_estimate_of_range"] = qs.error_estimate
    g_qs = weight_conductance(weight, qs.state)
    fast = FastArray(weight, mask, n_domains=cfg.bins_weight, s_init=state.weight)
    reasons = fast.check(sched, cfg.r_line)
    out["fast_limits"] = reasons
    g_fast = fast.apply(sched, cfg.r_line, warn=False).conductance()  # compared even where it refuses
    if full:
        if reference_g is None:
            from .watchdog import LADDER_COUNTS

            before = dict(LADDER_COUNTS)
            t0 = time.perf_counter()
            ref = run_array(weight, sparsity, state, sched, cfg, reference, backend=backend).state
            out["full_wall_s"] = time.perf_counter() - t0
            # the run ladder's progress watchdog: attempts (one per deck when none was too slow) and halts
            out["full_ladder"] = {k: LADDER_COUNTS[k] - before[k] for k in ("attempts", "halted", "failed")}
            g_full = weight_conductance(weight, ref)
        else:
            out["full_wall_s"], g_full = None, np.asarray(reference_g, dtype=float)
        out["full_g"] = g_full.tolist()
        out["full_max_kept_change_of_range"] = float(np.abs(g_full - g0)[mask].max() / sp_)
        out["full_max_pruned_change_of_range"] = float(np.abs(g_full - g0)[~mask].max() / sp_) if (~mask).any() else 0.0
        out["qs_vs_full_max_kept_diff_of_range"] = float(np.abs(g_qs - g_full)[mask].max() / sp_)
        out["qs_vs_full_max_pruned_diff_of_range"] = (float(np.abs(g_qs - g_full)[~mask].max() / sp_)
                                                      if (~mask).any() else 0.0)
        d_fast = np.abs(g_fast - g_full) / sp_
        out["fast_vs_full_max_kept_diff_of_range"] = None if reasons else float(d_fast[mask].max())
        out["fast_outside_limits_vs_full_max_diff_of_range"] = float(d_fast.max()) if reasons else None
    return out
