"""Benchmark: one full VAU update on M x M arrays in ngspice and in the numpy fast path, same run.

    PYTHONPATH=. python bench/bench_spice.py [--sizes 16 32 64] [--line-max 16] [--json out/bench_spice.json]

For each size: a random 75 % sparsity mask and row/column operators in [-2, 2] (seed = size); kept
weights start mid-range, pruned ones at G_min. Reports wall times, the speed-up, the largest
kept-cell difference (fraction of G_max - G_min) and the largest pruned-cell change.
ngspice options are the ones chosen by measurement for arrays (see BENCHMARKS.md): gear,
reltol 3e-3, maxstep = one segment, 10 ns edges, 8 weight bins, 1 sparsity bin, output kept
only for the last segment. With ideal lines the rows are independent and run as separate decks
(exact; the single-deck time is also given up to --single-deck-max, and both must agree).
SPICE fidelity (line resistance ``--r-line`` per cell segment on BL, DIL, DOL: IR drop, sneak and
half-select currents) needs the whole array in one deck; it runs up to ``--line-max`` and is compared
with the ideal-line result and the fast path (issue 18).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fefet_spice import presets  # noqa: E402
from fefet_spice.array import FastArray  # noqa: E402
from fefet_spice.spice.array import ArrayConfig, ArrayState, run_array, weight_conductance  # noqa: E402
from fefet_spice.spice.deck import SolverOptions  # noqa: E402
from fefet_spice.spice.library import vau_deck  # noqa: E402

BENCH_OPTIONS = SolverOptions(reltol=3e-3, t_edge=1e-8)
BENCH_CONFIG = ArrayConfig(bins_weight=8, bins_sparsity=1)


def cosim(m: int, weight, sparsity, r_line: float, ideal, fast, options: SolverOptions) -> dict:
    """SPICE fidelity by co-simulation (fefet_spice.spice.cosim): ngspice solves the line network with
    frozen polarization, numpy advances the domains under each cell's own drive."""
    from fefet_spice.spice.cosim import run_array_cosim

    cfg = replace(BENCH_CONFIG, r_line=r_line)
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=cfg)
    mask = case["mask"]
    t0 = time.perf_counter()
    run = run_array_cosim(weight, sparsity, case["state"], case["schedule"], cfg, options, backend="subprocess")
    t_co = time.perf_counter() - t0
    g = weight_conductance(weight, run.state)
    span = _span(weight)
    return {"t_cosim_s": t_co, "cosim_points": run.n_points, "g_cosim": g,
            "cosim_max_kept_diff_vs_ideal_lines_of_range": float(np.abs(g - ideal)[mask].max() / span),
            "cosim_max_kept_diff_vs_fast_of_range": float(np.abs(g - fast)[mask].max() / span),
            "cosim_max_pruned_change_of_range": float(np.abs(g - weight_conductance(weight, case["state"]))[~mask].max() / span)}


def line_resistance(m: int, weight, sparsity, r_line: float, ideal, fast, options: SolverOptions) -> dict:
    """The same VAU update as one deck with line resistance ``r_line`` per segment on BL, DIL and DOL
    (SPICE fidelity: IR drop, sneak and half-select currents): wall time and the largest kept-cell
    difference to the ideal-line ngspice result and to the fast path (fraction of the range)."""
    cfg = replace(BENCH_CONFIG, r_line=r_line)
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=cfg)
    mask = case["mask"]
    t0 = time.perf_counter()
    final = run_array(weight, sparsity, case["state"], case["schedule"], cfg, options, backend="subprocess").state
    t_line = time.perf_counter() - t0
    g = weight_conductance(weight, final)
    span = _span(weight)
    return {"size": m, "r_line_ohm": r_line, "klu": options.klu, "t_ngspice_line_s": t_line, "g_line": g,
            "max_kept_diff_vs_ideal_lines_of_range": float(np.abs(g - ideal)[mask].max() / span),
            "max_kept_diff_vs_fast_of_range": float(np.abs(g - fast)[mask].max() / span),
            "max_pruned_change_of_range": float(np.abs(g - weight_conductance(weight, case["state"]))[~mask].max() / span)}


def _span(weight) -> float:
    ends = ArrayState(np.array([[[1.0]], [[-1.0]]]), np.ones((2, 1, 1)))
    g_end = weight_conductance(weight, ends)
    return float(g_end[0, 0] - g_end[1, 0])


def one_size(m: int, weight, sparsity, repeats: int = 5, single_deck: bool = True, rows: bool = True) -> dict:
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=BENCH_CONFIG)
    sched, state, mask, s0 = case["schedule"], case["state"], case["mask"], case["s0"]
    t_rows = final = None
    if rows:
        t0 = time.perf_counter()
        final = run_array(weight, sparsity, state, sched, BENCH_CONFIG, BENCH_OPTIONS, backend="subprocess").state
        t_rows = time.perf_counter() - t0
    t_single = dev = None
    if single_deck and rows:
        t0 = time.perf_counter()
        one = run_array(weight, sparsity, state, sched, BENCH_CONFIG, BENCH_OPTIONS, backend="subprocess",
                        split_rows=False).state
        t_single = time.perf_counter() - t0
        dev = float(np.abs(weight_conductance(weight, one) - weight_conductance(weight, final)).max())
    g0 = weight_conductance(weight, state)
    times, g_fast = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        g_fast = FastArray(weight, mask, s_init=s0).apply(sched).conductance()
        times.append(time.perf_counter() - t0)
    t_fast = float(np.median(times))
    span = _span(weight)
    base = {"size": m, "segments": int(len(sched.dt)), "cells": m * m, "kept": int(mask.sum()), "t_fast_s": t_fast,
            "g_fast": g_fast}
    if final is None:
        return base
    g_spice = weight_conductance(weight, final)
    kept_change = float(np.abs(g_spice - g0)[mask].mean())
    return {**base, "g_ideal": g_spice, "t_ngspice_rows_s": t_rows, "t_ngspice_single_deck_s": t_single,
            "speedup_vs_rows": t_rows / t_fast,
            "speedup_vs_single_deck": None if t_single is None else t_single / t_fast,
            "max_kept_err_of_range": float(np.abs(g_spice - g_fast)[mask].max() / span),
            "rows_vs_single_deck_of_range": None if dev is None else dev / span,
            "mean_kept_change_of_range": kept_change / span,
            "max_pruned_change_over_mean_kept": float(np.abs(g_spice - g0)[~mask].max() / kept_change)}


def mac_ir_drop(m: int, weight, sparsity, r_lines=(0.0, 2.0, 50.0), seed: int = 7) -> list[dict]:
    """MAC read of an m x m array (75 % sparse, random weights and inputs): DOL currents in ngspice
    against the ideal sum G*V, for each line resistance per segment."""
    from fefet_spice.spice.array import initial_state, mac_currents
    from fefet_spice.model.channel import drain_current

    rng = np.random.default_rng(seed)
    mask = rng.random((m, m)) >= 0.75
    cfg0 = ArrayConfig()
    state = initial_state(m, m, mask, cfg0)
    state.weight[:] = np.where(mask, rng.uniform(-1, 1, (m, m)), -1.0)[..., None]
    v_in = rng.uniform(0, weight.op.v_read_d, m)
    vt = weight.vt_mid - 0.5 * weight.mw * state.weight.mean(-1)
    ideal = np.where(mask, drain_current(weight.channel, weight.op.v_read_g, v_in[:, None], vt), 0.0).sum(0)
    out = []
    for r in r_lines:
        t0 = time.perf_counter()
        i_dol, _ = mac_currents(weight, sparsity, state, v_in, ArrayConfig(r_line=r), backend="subprocess")
        ok = ideal > 0
        err = np.abs(i_dol[ok] - ideal[ok]) / ideal[ok]
        out.append({"size": m, "r_line_ohm": r, "max_rel_err": float(err.max()), "mean_rel_err": float(err.mean()),
                    "t_ngspice_s": time.perf_counter() - t0})
    return out


def _cell(x, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[8, 16, 32])
    ap.add_argument("--single-deck-max", type=int, default=16,
                    help="also time the whole array as one deck up to this size (cost grows super-linearly)")
    ap.add_argument("--rows-max", type=int, default=32, help="ideal-line row decks up to this size")
    ap.add_argument("--line-max", type=int, default=8,
                    help="SPICE fidelity (one deck with line resistance) up to this size")
    ap.add_argument("--cosim-max", type=int, default=16, help="co-simulation (SPICE fidelity) up to this size")
    ap.add_argument("--r-line", type=float, default=50.0, help="line resistance per cell segment [ohm]")
    ap.add_argument("--klu", action="store_true", help="KLU matrix solver for the line-resistance decks")
    ap.add_argument("--mac-sizes", type=int, nargs="*", default=[8, 32], help="MAC IR-drop cases")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    weight = presets.nominal(presets.get("weight"))
    sparsity = presets.nominal(presets.get("sparsity"))
    rows = []
    print("| array | segments | ngspice, one deck [s] | ngspice, row decks [s] | fast path [ms] | speed-up (row decks) "
          f"| max kept diff / range | pruned / kept change | co-sim, R = {args.r_line:g} ohm [s] | co-sim vs fast path "
          f"| full deck, R = {args.r_line:g} ohm [s] | full R vs ideal lines | co-sim vs full R deck |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in args.sizes:
        r = one_size(m, weight, sparsity, single_deck=m <= args.single_deck_max, rows=m <= args.rows_max)
        line = co = co_vs_full = None
        ideal = r.get("g_ideal", r["g_fast"])
        opts = replace(BENCH_OPTIONS, klu=args.klu)
        if m <= args.cosim_max:
            co = cosim(m, weight, sparsity, args.r_line, ideal, r["g_fast"], opts)
        if m <= args.line_max:
            line = line_resistance(m, weight, sparsity, args.r_line, ideal, r["g_fast"], opts)
            r["line_resistance"] = line
            if co is not None:
                _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=BENCH_CONFIG)
                co_vs_full = float(np.abs(co["g_cosim"] - line.pop("g_line"))[case["mask"]].max() / _span(weight))
                line["cosim_max_kept_diff_vs_full_of_range"] = co_vs_full
        line and line.pop("g_line", None)
        if co is not None:
            co.pop("g_cosim")
            r["cosim"] = co
        g = r.get
        pct = (lambda x: None if x is None else 100 * x)
        print(f"| {m}x{m} | {r['segments']} | {_cell(g('t_ngspice_single_deck_s'), '.1f')} | "
              f"{_cell(g('t_ngspice_rows_s'), '.1f')} | {1e3 * r['t_fast_s']:.2f} | {_cell(g('speedup_vs_rows'), '.0f')}x | "
              f"{_cell(pct(g('max_kept_err_of_range')), '.2f')} % | {_cell(g('max_pruned_change_over_mean_kept'), '.1e')} | "
              f"{_cell(co and co['t_cosim_s'], '.1f')} | {_cell(co and 100 * co['cosim_max_kept_diff_vs_fast_of_range'], '.2f')} % | "
              f"{_cell(line and line['t_ngspice_line_s'], '.1f')} | "
              f"{_cell(line and 100 * line['max_kept_diff_vs_ideal_lines_of_range'], '.2f')} % | "
              f"{_cell(co_vs_full and 100 * co_vs_full, '.2f')} % |", flush=True)
        r.pop("g_fast"), r.pop("g_ideal", None)
        rows.append(r)
    macs = []
    if args.mac_sizes:
        print("\n| MAC array | R per segment [ohm] | max error vs sum G*V | mean error | ngspice [s] |")
        print("|---|---|---|---|---|")
    for m in args.mac_sizes:
        for r in mac_ir_drop(m, weight, sparsity):
            macs.append(r)
            print(f"| {m}x{m} | {r['r_line_ohm']:g} | {100 * r['max_rel_err']:.3f} % | {100 * r['mean_rel_err']:.3f} % | "
                  f"{r['t_ngspice_s']:.1f} |", flush=True)
    if args.json:
        from fefet_spice.io.atomic import write_json

        write_json(args.json, {"schema": "fefet-bench-spice/1", "options": vars(BENCH_OPTIONS),
                               "bins_weight": BENCH_CONFIG.bins_weight, "bins_sparsity": BENCH_CONFIG.bins_sparsity,
                               "results": rows, "mac_ir_drop": macs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
