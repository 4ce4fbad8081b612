"""Benchmark: one full VAU update on M x M arrays in ngspice and in the numpy fast path, same run.

    PYTHONPATH=. python bench/bench_spice.py [--sizes 16 32 64] [--line-max 16] [--json out/bench_spice.json] [--plot F]

For each size: a random 75 % sparsity mask and row/column operators in [-2, 2] (seed = size); kept
weights start mid-range, pruned ones at G_min. Reports wall times, the speed-up, the largest
kept-cell difference (fraction of G_max - G_min) and the largest pruned-cell change.
ngspice options are the ones chosen by measurement for arrays (see BENCHMARKS.md): gear,
reltol 3e-3, maxstep = one segment, 10 ns edges, 8 weight bins, 1 sparsity bin, output kept
only for the last segment. With ideal lines the rows are independent and run as separate decks
(exact; the single-deck time is also given up to --single-deck-max, and both must agree).
SPICE fidelity (line resistance ``--r-line`` per cell segment on BL, DIL, DOL: IR drop, sneak and
half-select currents) needs the whole array in one deck; it runs up to ``--line-max`` and is compared
with the ideal-line result and the fast path (issue 18). The quasi-static network mode
(:mod:`fefet_spice.spice.quasistatic`, up to ``--qs-max``) gives the same fidelity without ngspice; it is
timed (wall and process CPU, ngspice children included for the decks) and compared with the full deck,
the co-simulation (``--cosim-max``) and the fast path; with ideal lines it is also compared with the fast
path like for like. ``--plot`` writes the time-vs-size figure (PNG; default next to ``--json``).

``--fidelity-matrix`` runs instead the fidelity matrix of :mod:`fefet_spice.spice.fidelity`: sizes
(``--fm-sizes``, default 4 8) x pulse widths 10 ns / 100 ns / 1 us x line R 0 / 200 ohm x initial state of
the kept cells (G_min, mid-range, random) x pruned cells at G_min or mid-range, each against the tightened
full deck; one entry per case under ``fidelity_matrix`` in ``--json`` (with the deck's conductances
``full_g``: ``--fm-reference`` reuses them, so a change of the quasi-static mode is checked without rerunning
the decks). Every full deck runs through the run ladder of :func:`fefet_spice.spice.array.run_array` under the
progress watchdog (:mod:`fefet_spice.spice.watchdog`); ``full_ladder`` in each entry counts its attempts and halts.
"""
from __future__ import annotations

import argparse
import resource
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


def _clock(fn):
    """``fn()`` with its wall time and CPU time [s] (this process and waited-for children, i.e. ngspice)."""
    def cpu():
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, cpu() - c0


def quasi_static(m: int, weight, sparsity, r_line: float, options: SolverOptions) -> dict:
    """SPICE fidelity by the quasi-static network mode (fefet_spice.spice.quasistatic): implicit steps of the
    deck's network per schedule segment, every bin advanced exactly under its cell's node voltages."""
    from fefet_spice.spice.quasistatic import run_array_quasistatic

    cfg = replace(BENCH_CONFIG, r_line=r_line)
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=cfg)
    run, wall, cpu = _clock(lambda: run_array_quasistatic(weight, sparsity, case["state"], case["schedule"], cfg, options))
    return {"wall_s": wall, "cpu_s": cpu, "solves": run.n_points, "g": weight_conductance(weight, run.state)}


def cosim(m: int, weight, sparsity, r_line: float, ideal, fast, options: SolverOptions) -> dict:
    """SPICE fidelity by co-simulation (fefet_spice.spice.cosim): ngspice solves the line network with
    frozen polarization, numpy advances the domains under each cell's own drive."""
    from fefet_spice.spice.cosim import run_array_cosim

    cfg = replace(BENCH_CONFIG, r_line=r_line)
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=cfg)
    mask = case["mask"]
    run, t_co, cpu = _clock(lambda: run_array_cosim(weight, sparsity, case["state"], case["schedule"], cfg, options,
                                                    backend="subprocess"))
    g = weight_conductance(weight, run.state)
    span = _span(weight)
    return {"t_cosim_s": t_co, "cpu_cosim_s": cpu, "cosim_points": run.n_points, "g_cosim": g,
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
    final, t_line, cpu = _clock(lambda: run_array(weight, sparsity, case["state"], case["schedule"], cfg, options,
                                                  backend="subprocess").state)
    g = weight_conductance(weight, final)
    span = _span(weight)
    return {"size": m, "r_line_ohm": r_line, "klu": options.klu, "t_ngspice_line_s": t_line, "cpu_ngspice_line_s": cpu,
            "g_line": g,
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


def fidelity(m: int, weight, sparsity, args, ideal, fast, opts: SolverOptions) -> dict:
    """Issue 18 at one size: quasi-static (lines on and ideal), co-simulation and full line deck where run."""
    _, case = vau_deck(weight, sparsity, m, m, seed=m, cfg=BENCH_CONFIG)
    mask, span = case["mask"], _span(weight)
    g0 = weight_conductance(weight, case["state"])

    def diff(a, b):
        return float(np.abs(a - b)[mask].max() / span)

    def pruned(g):
        return float(np.abs(g - g0)[~mask].max() / span)

    out: dict = {"size": m, "r_line_ohm": args.r_line, "cells": m * m}
    g = {"fast": fast}
    if m <= args.qs_max:
        qs = quasi_static(m, weight, sparsity, args.r_line, opts)
        qs0 = quasi_static(m, weight, sparsity, 0.0, opts)
        g["qs"] = qs.pop("g")
        out["quasi_static"] = {**qs, "max_kept_diff_vs_fast_of_range": diff(g["qs"], fast),
                               "max_pruned_change_of_range": pruned(g["qs"])}
        fast_bins = FastArray(weight, mask, n_domains=BENCH_CONFIG.bins_weight, s_init=case["s0"]).apply(
            case["schedule"]).conductance()  # like for like: the SPICE bins as domains
        out["quasi_static_ideal_lines"] = {"wall_s": qs0["wall_s"], "cpu_s": qs0["cpu_s"],
                                           "max_kept_diff_vs_fast_of_range": diff(qs0["g"], fast),
                                           "max_kept_diff_vs_fast_same_bins_of_range": diff(qs0["g"], fast_bins)}
        if ideal is not fast:
            out["quasi_static_ideal_lines"]["max_kept_diff_vs_ngspice_ideal_lines_of_range"] = diff(qs0["g"], ideal)
    if m <= args.cosim_max:
        co = cosim(m, weight, sparsity, args.r_line, ideal, fast, opts)
        g["co"] = co.pop("g_cosim")
        out["cosim"] = co
    if m <= args.line_max:
        line = line_resistance(m, weight, sparsity, args.r_line, ideal, fast, opts)
        g["full"] = line.pop("g_line")
        out["full_deck"] = line
    for a, b in (("qs", "full"), ("qs", "co"), ("co", "full")):
        if a in g and b in g:
            out[f"{a}_vs_{b}_max_kept_diff_of_range"] = diff(g[a], g[b])
    return out


def plot_scaling(rows: list[dict], fid: list[dict], path: str) -> None:
    """Time of one VAU update vs array size: full line deck, co-simulation, quasi-static, fast path."""
    from fefet_spice.plotting import new_figure

    fig, axes = new_figure(size=(5.6, 4.0))
    ax = axes[0, 0]
    series = [("full deck, R line (ngspice)", [(f["size"], f.get("full_deck", {}).get("t_ngspice_line_s")) for f in fid], "s-"),
              ("co-simulation (ngspice network)", [(f["size"], f.get("cosim", {}).get("t_cosim_s")) for f in fid], "^-"),
              ("quasi-static network, wall", [(f["size"], f.get("quasi_static", {}).get("wall_s")) for f in fid], "o-"),
              ("quasi-static network, CPU", [(f["size"], f.get("quasi_static", {}).get("cpu_s")) for f in fid], "o--"),
              ("ideal lines, ngspice row decks", [(r["size"], r.get("t_ngspice_rows_s")) for r in rows], "v:"),
              ("fast path (numpy, ideal lines)", [(r["size"], r["t_fast_s"]) for r in rows], "d-")]
    for label, pts, style in series:
        pts = [(x, y) for x, y in pts if y is not None]
        if pts:
            ax.plot(*zip(*pts), style, label=label)
    sizes = sorted({r["size"] for r in rows})
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sizes, [f"{m}x{m}" for m in sizes])
    for t, label in ((300, "64x64 target 5 min"), (60, "32x32 target 60 s")):
        ax.axhline(t, color="grey", lw=0.8, ls=":")
        ax.text(sizes[0], t * 1.1, label, fontsize=7, color="grey")
    ax.set_xlabel("array size")
    ax.set_ylabel("one VAU update [s]")
    ax.set_title("One VAU update, 75 % sparse, topology B")
    ax.legend(fontsize=7)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def _wc(d: dict | None, wall: str, cpu: str) -> str:
    return "-" if not d else f"{d[wall]:.1f} / {d[cpu]:.1f}"


def _halts(e: dict) -> str:
    """Attempts of the full deck the progress watchdog halted (the run ladder moved on), if any."""
    n = e.get("full_ladder", {}).get("halted", 0)
    return f" (watchdog halted {n} attempt{'s' * (n > 1)})" if n else ""


def fidelity_matrix(args, weight, sparsity) -> int:
    """Every case of the matrix against the tightened deck; the JSON is rewritten after each case."""
    import itertools

    from fefet_spice.spice import fidelity as fm

    entries = []
    stored = []  # the reference decks of an earlier --json of this matrix (same cases and options)
    if args.fm_reference:
        import json

        stored = [x for x in json.loads(Path(args.fm_reference).read_text())["fidelity_matrix"] if "full_g" in x]
    grid = itertools.product(args.fm_sizes, args.fm_widths, args.fm_r_lines, args.fm_init, args.fm_pruned)
    print("| size | pulse | R [ohm] | kept init | pruned | QS vs full | fast vs full | QS estimate | QS CPU [s] | full wall [s] | fast limits |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for m, tw, r, init, pruned in grid:
        case = fm.Case(m, tw, r, init, pruned)
        old = [x for x in stored if {k: x.get(k) for k in case.key()} == case.key()]
        ref_g = np.array(old[0]["full_g"]) if old else None
        try:
            e = fm.run_case(weight, sparsity, case, reference_g=ref_g)
        except Exception as exc:  # noqa: BLE001  one failed case is recorded, the matrix goes on
            e = {**case.key(), "error": str(exc).splitlines()[0]}
        entries.append(e)
        fast = e.get("fast_vs_full_max_kept_diff_of_range")
        print(f"| {m} | {tw:.0e} | {r:g} | {init} | {pruned} | {_pct(e.get('qs_vs_full_max_kept_diff_of_range'))} | "
              f"{'refused' if e.get('fast_limits') else _pct(fast)} | {_pct(e.get('qs_error_estimate_of_range'))} | "
              f"{_cell(e.get('qs_cpu_s'), '.1f')} | {_cell(e.get('full_wall_s'), '.1f')} | "
              f"{len(e.get('fast_limits', []))} {e.get('error', '')}{_halts(e)} |", flush=True)
        if args.json:
            from fefet_spice.io.atomic import write_json

            write_json(args.json, {"schema": "fefet-bench-spice-fidelity/1", "reference": vars(fm.REFERENCE),
                                   "reference_by_width": {str(k): vars(v) for k, v in fm.REFERENCE_BY_WIDTH.items()},
                                   "bins_weight": fm.CONFIG.bins_weight, "amplitudes": {str(k): v for k, v in fm.AMPLITUDES.items()},
                                   "fidelity_matrix": entries})
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fidelity-matrix", action="store_true", help="run the fidelity matrix instead (see above)")
    ap.add_argument("--fm-reference", default=None,
                    help="fidelity matrix: reuse the reference decks' results stored in this earlier --json (cases not in it run)")
    ap.add_argument("--fm-sizes", type=int, nargs="*", default=[4, 8], help="fidelity matrix: array sizes")
    ap.add_argument("--fm-widths", type=float, nargs="*", default=[10e-9, 100e-9, 1e-6], help="fidelity matrix: pulse widths [s]")
    ap.add_argument("--fm-r-lines", type=float, nargs="*", default=[0.0, 200.0], help="fidelity matrix: line R per segment [ohm]")
    ap.add_argument("--fm-init", nargs="*", default=["g_min", "mid", "random"], choices=["g_min", "mid", "random"],
                    help="fidelity matrix: initial state of the kept cells")
    ap.add_argument("--fm-pruned", nargs="*", default=["g_min", "mid"], choices=["g_min", "mid"],
                    help="fidelity matrix: state of the pruned cells")
    ap.add_argument("--sizes", type=int, nargs="*", default=[8, 16, 32])
    ap.add_argument("--single-deck-max", type=int, default=16,
                    help="also time the whole array as one deck up to this size (cost grows super-linearly)")
    ap.add_argument("--rows-max", type=int, default=32, help="ideal-line row decks up to this size")
    ap.add_argument("--line-max", type=int, default=8,
                    help="SPICE fidelity (one deck with line resistance) up to this size")
    ap.add_argument("--cosim-max", type=int, default=8, help="co-simulation (ngspice network) up to this size")
    ap.add_argument("--qs-max", type=int, default=64, help="quasi-static network mode up to this size")
    ap.add_argument("--r-line", type=float, default=50.0, help="line resistance per cell segment [ohm]")
    ap.add_argument("--klu", action="store_true", help="KLU matrix solver for the line-resistance decks")
    ap.add_argument("--mac-sizes", type=int, nargs="*", default=[8, 32], help="MAC IR-drop cases")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--plot", help="write the scaling figure here (PNG; default: next to --json)")
    args = ap.parse_args(argv)
    weight = presets.nominal(presets.get("weight"))
    sparsity = presets.nominal(presets.get("sparsity"))
    if args.fidelity_matrix:
        return fidelity_matrix(args, weight, sparsity)
    rows, fid = [], []
    opts = replace(BENCH_OPTIONS, klu=args.klu)
    for m in args.sizes:
        r = one_size(m, weight, sparsity, single_deck=m <= args.single_deck_max, rows=m <= args.rows_max)
        g = r.get
        print(f"ideal lines {m}x{m}: {r['segments']} segments, fast path {1e3 * r['t_fast_s']:.2f} ms, ngspice one deck "
              f"{_cell(g('t_ngspice_single_deck_s'), '.1f')} s, row decks {_cell(g('t_ngspice_rows_s'), '.1f')} s, "
              f"max kept diff {_pct(g('max_kept_err_of_range'))} of range", flush=True)
        f = fidelity(m, weight, sparsity, args, r.get("g_ideal", r["g_fast"]), r["g_fast"], opts)
        f["segments"] = r["segments"]
        r.pop("g_fast"), r.pop("g_ideal", None)
        rows.append(r)
        fid.append(f)
    print(f"\n| array | segments | fast path [ms] | quasi-static, R = {args.r_line:g} ohm, wall / CPU [s] | network solves "
          "| QS vs full deck | QS vs co-sim | QS vs fast path | QS ideal lines vs fast path (same bins) | full deck, wall / CPU [s] "
          "| co-sim, wall / CPU [s] | pruned change QS / full (of range) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r, f in zip(rows, fid):
        q, q0, fd = f.get("quasi_static"), f.get("quasi_static_ideal_lines"), f.get("full_deck")
        print(f"| {f['size']}x{f['size']} | {f['segments']} | {1e3 * r['t_fast_s']:.2f} | {_wc(q, 'wall_s', 'cpu_s')} | "
              f"{q['solves'] if q else '-'} | {_pct(f.get('qs_vs_full_max_kept_diff_of_range'))} | "
              f"{_pct(f.get('qs_vs_co_max_kept_diff_of_range'))} | {_pct(q and q['max_kept_diff_vs_fast_of_range'])} | "
              f"{_pct(q0 and q0['max_kept_diff_vs_fast_same_bins_of_range'])} | {_wc(fd, 't_ngspice_line_s', 'cpu_ngspice_line_s')} | "
              f"{_wc(f.get('cosim'), 't_cosim_s', 'cpu_cosim_s')} | "
              f"{_cell(q and q['max_pruned_change_of_range'], '.1e')} / {_cell(fd and fd['max_pruned_change_of_range'], '.1e')} |",
              flush=True)
    macs = []
    if args.mac_sizes:
        print("\n| MAC array | R per segment [ohm] | max error vs sum G*V | mean error | ngspice [s] |")
        print("|---|---|---|---|---|")
    for m in args.mac_sizes:
        for r in mac_ir_drop(m, weight, sparsity):
            macs.append(r)
            print(f"| {m}x{m} | {r['r_line_ohm']:g} | {100 * r['max_rel_err']:.3f} % | {100 * r['mean_rel_err']:.3f} % | "
                  f"{r['t_ngspice_s']:.1f} |", flush=True)
    plot = args.plot or (str(Path(args.json).with_suffix(".png")) if args.json else None)
    if plot:
        plot_scaling(rows, fid, plot)
    if args.json:
        from fefet_spice.io.atomic import write_json

        write_json(args.json, {"schema": "fefet-bench-spice/2", "options": vars(BENCH_OPTIONS),
                               "bins_weight": BENCH_CONFIG.bins_weight, "bins_sparsity": BENCH_CONFIG.bins_sparsity,
                               "results": rows, "spice_fidelity": fid, "mac_ir_drop": macs, "plot": plot})
    return 0


if __name__ == "__main__":
    sys.exit(main())
