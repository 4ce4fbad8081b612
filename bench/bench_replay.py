"""Benchmark (issue 18): a whole MSNet training run's array updates replayed on its four arrays.

    nice .venv/bin/python bench/bench_replay.py [--record F.npz] [--save-record F.npz] [--epochs 57]
        [--modes fast cosim quasistatic] [--spice-max-updates 2] [--r-line 50] [--json F]

1. Record: train MSNet with ``vau`` (default schedule but ``accumulate="lines"``: the default per-weight
   registers write cell by cell, which the recorder refuses; seed 0; EMNIST letters a e p r s from
   ``../shared/data`` if present, else scikit-learn's digits; LUT ``luts/weight_ref``) with the trainer's
   recorder on, or read a record written by an earlier run (``--record``).
2. Replay (:mod:`fefet_spice.array.replay`) on conv1 25x8, conv2 64x16 + 36x16, fc 32x10 (pairs side by
   side) with each mode: ``fast`` (numpy fast path, ideal lines) for every update; ``cosim`` (ngspice
   solves the line network with line resistance, numpy the domains: :func:`fefet_spice.spice.cosim.run_array_cosim`)
   and ``quasistatic`` (``fefet_spice.spice.quasistatic.run_array_quasistatic``, imported only when
   asked) for the first ``--spice-max-updates`` updates, compared with the fast path on the same updates.
   The full-run time of a SPICE mode is an *extrapolation*: its measured time per pulse slot on each
   array times the array's pulse slots in the whole run.
3. Reports per array: updates, operations, pulse slots, cell pulses, wall and CPU time (CPU includes
   ngspice subprocesses); the final conductance difference between modes (kept cells, fraction of the
   range); MSNet's test accuracy with the trainer's final LUT conductances and with the replayed ones.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fefet_spice.array import record as rec_mod  # noqa: E402
from fefet_spice.array.replay import replay, run_array_fast  # noqa: E402
from fefet_spice.io import array_record  # noqa: E402
from fefet_spice.io.atomic import write_json  # noqa: E402
from fefet_spice.io.params_file import resolve_params  # noqa: E402
from fefet_spice.presets import nominal  # noqa: E402
from fefet_spice.spice.array import ArrayConfig, ArrayState, weight_conductance  # noqa: E402
from fefet_spice.spice.deck import SolverOptions  # noqa: E402

EMNIST = ROOT.parent / "shared" / "data" / "emnist_letters_aeprs.npz"
CONFIG = ArrayConfig(bins_weight=8, bins_sparsity=1)
OPTIONS = SolverOptions(reltol=3e-3, t_edge=1e-8)
"""The array options chosen by measurement (bench/bench_spice.py)."""
QUASISTATIC = ("fefet_spice.spice.quasistatic", "run_array_quasistatic")


def backend_of(mode: str):
    """The operation runner of a mode (the SPICE ones imported lazily)."""
    if mode == "fast":
        return run_array_fast
    if mode == "cosim":
        from fefet_spice.spice.cosim import run_array_cosim
        return run_array_cosim
    if mode == "quasistatic":
        return getattr(importlib.import_module(QUASISTATIC[0]), QUASISTATIC[1])
    raise SystemExit(f"unknown mode {mode!r}: use fast, cosim or quasistatic")


def make_record(args) -> rec_mod.TrainRecord:
    """Train with the recorder on (or read ``--record``); writes ``--save-record`` atomically."""
    if args.record:
        return array_record.load(args.record)
    from fefet_spice.lut.native import load_lut
    from fefet_spice.train import data, trainer
    from fefet_spice.train.schedule import Schedule

    spec = f"emnist-npz:{EMNIST}" if EMNIST.is_file() else "digits"
    ds = data.load(spec, seed=args.seed)
    lut = load_lut(ROOT / args.lut)
    entries: list = []
    t0 = time.perf_counter()
    res = trainer.train(ds, lut, "vau", replace(Schedule(), epochs=args.epochs, accumulate="lines"), seed=args.seed,
                        recorder=entries)
    print(f"trained {args.epochs} epochs on {spec} in {time.perf_counter() - t0:.1f} s: final accuracy "
          f"{100 * res['final_accuracy']:.1f} %", file=sys.stderr, flush=True)
    arrays = rec_mod.pack(entries)
    arrays["dataset"] = np.array(json.dumps({"spec": spec, "seed": args.seed, "lut": args.lut}))
    if args.save_record:
        array_record.save(args.save_record, arrays)
    return rec_mod.TrainRecord(arrays)


def run_mode(record, mode: str, wparams, sparams, cfg, n_max) -> tuple:
    run_op = backend_of(mode)
    c0 = os.times()
    t0 = time.perf_counter()
    done = [0]

    def progress(u, n):
        done[0] = u
        if mode != "fast" or u % 20 == 0 or u == n:
            print(f"  {mode}: update {u}/{n}, {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    out = replay(record, wparams, sparams, run_op, cfg, OPTIONS, "subprocess", max_updates=n_max, on_update=progress)
    c1 = os.times()
    wall = time.perf_counter() - t0
    cpu = (c1.user - c0.user) + (c1.system - c0.system) + (c1.children_user - c0.children_user) + \
        (c1.children_system - c0.children_system)
    arrays = [{"name": s.name, "shape": list(s.shape), "updates": s.updates, "operations": s.operations,
               "pulse_slots": s.pulse_slots, "cell_pulses": s.cell_pulses, "wall_s": s.wall_s} for s in out.stats]
    return out, {"mode": mode, "updates": out.n_updates, "wall_s": wall, "cpu_s_with_children": cpu, "arrays": arrays}


def span(wparams) -> float:
    g = weight_conductance(wparams, ArrayState(np.array([[[-1.0]], [[1.0]]]), np.ones((2, 1, 1))))
    return float(g[1, 0] - g[0, 0])


def difference(a, b, wparams) -> dict:
    """Largest and mean kept-cell conductance difference between two replays (fraction of the range)."""
    d = [np.abs(weight_conductance(wparams, sa) - weight_conductance(wparams, sb))[np.tile(m, 2)]
         for sa, sb, m in zip(a.states, b.states, a.masks)]
    d = np.concatenate(d) / span(wparams)
    return {"max_of_range": float(d.max()), "mean_of_range": float(d.mean())}


def accuracy(record, result, wparams) -> dict | None:
    """MSNet test accuracy (noise-free reads) with the trainer's final LUT conductances and with the
    replayed ones mapped back to LUT units (the record's data set and seed); None without them."""
    from fefet_spice.train import data, msnet

    if "dataset" not in record.arrays or result.n_updates != record.n_updates:
        return None
    info = json.loads(str(record["dataset"]))
    ds = data.load(info["spec"], seed=info["seed"])
    scale = record.meta["scale"]
    trainer_w, replay_w = [], []
    for l in range(record.n_layers):
        mask = result.layer_mask(l)
        trainer_w.append(np.where(mask, scale[l] * (record[f"l{l}_gfp"] - record[f"l{l}_gfn"]), 0.0))
        gp, gn = result.layer_conductances(wparams, l)
        replay_w.append(np.where(mask, scale[l] * (gp - gn), 0.0))
    return {"trainer_final_lut": msnet.accuracy(trainer_w, ds.x_test, ds.y_test),
            "replayed": msnet.accuracy(replay_w, ds.x_test, ds.y_test)}


def vs_trainer(record, result, wparams) -> dict | None:
    """Kept pairs' G+ - G- after the replay against the trainer's final LUT values (fraction of the LUT
    range): how far the compact model under the replayed pulses lands from the LUT's prediction."""
    if result.n_updates != record.n_updates:
        return None
    d = []
    for l in range(record.n_layers):
        gp, gn = result.layer_conductances(wparams, l)
        d.append(np.abs((gp - gn) - (record[f"l{l}_gfp"] - record[f"l{l}_gfn"]))[result.layer_mask(l)])
    d = np.concatenate(d) / (record.meta["g_max"] - record.meta["g_min"])
    return {"max_of_range": float(d.max()), "mean_of_range": float(d.mean())}


def extrapolate(spice: dict, full: dict) -> float:
    """Full-run time of a SPICE mode: its time per pulse slot on each array times the array's slots."""
    total = 0.0
    for a, f in zip(spice["arrays"], full["arrays"]):
        per = a["wall_s"] / max(a["pulse_slots"], 1) if a["pulse_slots"] else a["wall_s"] / max(a["operations"], 1)
        total += per * f["pulse_slots"]
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", help="replay this record instead of training")
    ap.add_argument("--save-record", help="write the training run's record here (npz)")
    ap.add_argument("--epochs", type=int, default=57)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lut", default="luts/weight_ref")
    ap.add_argument("--params", default="fits/weight_ref.json", help="weight FeFET of the arrays")
    ap.add_argument("--sparsity", default="fits/sparsity_ref.json", help="sparsity FeFET of the arrays")
    ap.add_argument("--modes", nargs="+", default=["fast", "cosim"])
    ap.add_argument("--max-updates", type=int, help="fast path: replay at most this many updates")
    ap.add_argument("--spice-max-updates", type=int, default=2, help="SPICE modes: this many updates (0: all)")
    ap.add_argument("--r-line", type=float, default=50.0, help="line resistance per cell segment (SPICE) [ohm]")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    wparams = nominal(resolve_params(str(ROOT / args.params) if "/" in args.params else args.params))
    sparams = nominal(resolve_params(str(ROOT / args.sparsity) if "/" in args.sparsity else args.sparsity))
    for opt, prm in (("--params", wparams), ("--sparsity", sparams)):
        if "quasistatic" in args.modes and prm.ferro.beta != 1.0:   # refuse before the training run, not after it
            ap.error(f"{opt}: {prm.name} has beta = {prm.ferro.beta:g}; the quasi-static mode runs beta = 1 kinetics "
                     "only (e.g. --sparsity sparsity, the preset, for the binary sparsity FeFET)")
    record = make_record(args)
    print(f"record: {record.n_updates} updates, {len(record['event_kind'])} pruning/regrowth events",
          file=sys.stderr, flush=True)
    out = {"record_updates": record.n_updates, "config": {"r_line_ohm": args.r_line, "bins_weight": CONFIG.bins_weight,
           "bins_sparsity": CONFIG.bins_sparsity}, "modes": {}}
    full, fast_row = run_mode(record, "fast", wparams, sparams, CONFIG, args.max_updates)
    out["modes"]["fast"] = fast_row
    fast_row["accuracy"] = accuracy(record, full, wparams)
    fast_row["pair_diff_vs_trainer_lut"] = vs_trainer(record, full, wparams)
    for mode in [m for m in args.modes if m != "fast"]:
        n = args.spice_max_updates or None
        res, row = run_mode(record, mode, wparams, sparams, replace(CONFIG, r_line=args.r_line), n)
        ref, ref_row = run_mode(record, "fast", wparams, sparams, CONFIG, n)
        row["vs_fast_path_same_updates"] = difference(res, ref, wparams)
        row["fast_path_same_updates_wall_s"] = ref_row["wall_s"]
        row["accuracy"] = accuracy(record, res, wparams)
        row["pair_diff_vs_trainer_lut"] = vs_trainer(record, res, wparams)
        if res.n_updates < record.n_updates:
            row["extrapolated_full_run_wall_s"] = extrapolate(row, fast_row)
            slots = sum(a["pulse_slots"] for a in row["arrays"])
            row["extrapolated_full_run_cpu_s"] = row["cpu_s_with_children"] * \
                sum(a["pulse_slots"] for a in fast_row["arrays"]) / max(slots, 1)
        out["modes"][mode] = row
    print(json.dumps(out, indent=1))
    if args.json:
        write_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
