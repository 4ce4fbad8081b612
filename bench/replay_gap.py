"""Diagnosis: where the replayed arrays' conductances leave the trainer's LUT values (bench_replay's gap).

    nice .venv/bin/python bench/replay_gap.py --record F.npz [--lut luts/weight_ref] [--json F]

``F.npz`` is a record written by ``bench/bench_replay.py --save-record F.npz``. Every figure is the kept
pairs' |(G+ - G-) - (G+ - G-)'| as a fraction of the LUT range (mean and max), fast path (ideal lines):

* ``trainer_vs_lut_mean``: the trainer's final values against the record fired through the LUT's mean
  step (no write noise): what the trainer's write noise alone makes.
* ``array_vs_lut_mean``: the replayed array against that same noise-free LUT replay, after the transfer
  and after some updates (a mapping offset would show at 0 updates).
* ``half_select_disturb``: the array replayed with every column step split into one-column operations
  (no half-selected cell) against the normal replay.
* ``one_step``: each recorded firing applied to the array's cell and, from the same conductance, through
  the LUT; mean steps split into reversal (the cell's previous firing had the other sign) and the others.
* ``best_g_table``: the record fired through per-direction mean-step tables fitted to the array's own
  steps (``one_step``), indexed by G only or by G and reversal: the floor a conductance-indexed LUT can
  reach on this record (in-sample; a diagnostic, not a model).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fefet_spice.array import replay as rp  # noqa: E402
from fefet_spice.array.fast import FastArray  # noqa: E402
from fefet_spice.array.schedule import row_column_vau  # noqa: E402
from fefet_spice.io import array_record  # noqa: E402
from fefet_spice.io.atomic import write_json  # noqa: E402
from fefet_spice.io.params_file import resolve_params  # noqa: E402
from fefet_spice.lut.core import apply_pulses  # noqa: E402
from fefet_spice.lut.native import load_lut  # noqa: E402
from fefet_spice.presets import nominal  # noqa: E402
from fefet_spice.spice.array import ArrayConfig, ArrayState  # noqa: E402

CFG = ArrayConfig(bins_weight=8, bins_sparsity=1)


def fires(rec, l: int, u: int):
    """Per-cell signed counts (2, M, N) of update ``u``'s column then row fire of layer ``l``."""
    for step, axis in (("col", 0), ("row", 1)):
        p, m = (np.expand_dims(rec[f"l{l}_{step}_{k}"][u], axis) for k in ("p", "m"))
        plus, minus = rec[f"l{l}_{step}_sides"][u]
        yield np.stack([np.where(plus, p, 0), np.where(minus, -m, 0)])


def table_replay(rec, n: int, step_fn, g_min: float, span: float) -> list:
    """The record's first ``n`` updates (events as :func:`replay`) fired pulse by pulse through
    ``step_fn(g_frac, sign, reversal) -> step`` (fractions of the range); final events when n is all.
    Returns the conductances (2, M, N) [S] and the masks per layer."""
    out, masks = [], []
    for l in range(rec.n_layers):
        g = (np.stack([rec[f"l{l}_g0p"], rec[f"l{l}_g0n"]]) - g_min) / span
        last, mask = np.zeros(g.shape, int), np.ones(g.shape[1:], bool)
        for u in range(n + 1):
            if u == n and n < rec.n_updates:
                break
            for _, e in rec.events_before(u):
                after = rec[f"l{l}_event_mask"][e]
                cut = np.tile(mask & ~after, (2, 1, 1))
                g[cut], last[cut], mask = 0.0, 0, after
            if u == n:
                break
            for c in fires(rec, l, u):
                for k in range(int(np.abs(c).max(initial=0))):
                    for s in (1, -1):
                        sel = s * c > k
                        if sel.any():
                            rev = (last != 0) & (last != s)
                            g = np.where(sel, np.clip(g + step_fn(g, s, rev), 0.0, 1.0), g)
                            last = np.where(sel, s, last)
        out.append(g_min + g * span)
        masks.append(mask)
    return out, masks


def pair_diff(a, b, masks) -> dict:
    d = np.concatenate([np.abs((x[0] - x[1]) - (y[0] - y[1]))[m] for x, y, m in zip(a, b, masks)])
    return {"pairs": int(d.size), "mean": float(d.mean()) if d.size else 0.0, "max": float(d.max()) if d.size else 0.0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", required=True)
    ap.add_argument("--lut", default="luts/weight_ref")
    ap.add_argument("--params", default="fits/weight_ref.json")
    ap.add_argument("--sparsity", default="fits/sparsity_ref.json")
    ap.add_argument("--updates", type=int, nargs="+", default=[0, 10, 50])
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rec = array_record.load(args.record)
    lut = load_lut(ROOT / args.lut)
    wp, sp = (nominal(resolve_params(str(ROOT / p) if (ROOT / p).exists() else p))  # a file or a preset
              for p in (args.params, args.sparsity))
    g_min, span = rec.meta["g_min"], rec.meta["g_max"] - rec.meta["g_min"]
    up, dn = lut.kind_index(+1), lut.kind_index(-1)
    n_all = rec.n_updates

    def lut_step(g, s, rev):
        return np.interp(g_min + g * span, lut.g_grid, lut.dg_mean[up if s > 0 else dn]) / span

    def array(n, run_op=rp.run_array_fast):
        res = rp.replay(rec, wp, sp, run_op, CFG, max_updates=n)
        return [np.stack(res.layer_conductances(wp, l)) for l in range(rec.n_layers)], \
            [res.layer_mask(l) for l in range(rec.n_layers)]

    out = {"record_updates": n_all}
    lut_mean, _ = table_replay(rec, n_all, lut_step, g_min, span)
    arr, masks = array(None)
    trainer = [np.stack([rec[f"l{l}_gfp"], rec[f"l{l}_gfn"]]) for l in range(rec.n_layers)]
    scale = lambda d: {**d, "mean": d["mean"] / span, "max": d["max"] / span}  # noqa: E731
    out["trainer_vs_lut_mean"] = scale(pair_diff(trainer, lut_mean, masks))
    out["array_vs_trainer"] = scale(pair_diff(arr, trainer, masks))
    out["array_vs_lut_mean"] = {str(n_all): scale(pair_diff(arr, lut_mean, masks))}
    for n in [u for u in args.updates if u < n_all]:
        a, m = array(n)
        lm, _ = table_replay(rec, n, lut_step, g_min, span)
        out["array_vs_lut_mean"][str(n)] = scale(pair_diff(a, lm, m))

    def one_column_at_a_time(wparams, sparams, state, sched, cfg, options, backend):
        r, c = sched
        if not np.any(c):
            return rp.run_array_fast(wparams, sparams, state, row_column_vau(r, c, *vau_args), cfg)
        w = state.weight.copy()
        for j in np.flatnonzero(c):
            sub = ArrayState(w[:, j:j + 1], state.sparsity[:, j:j + 1])
            w[:, j:j + 1] = rp.run_array_fast(wparams, sparams, sub, row_column_vau(np.zeros_like(r), c[j:j + 1],
                                              *vau_args), cfg).state.weight
        return rp.FastRun(ArrayState(w, state.sparsity.copy()))

    op = wp.op
    vau_args = (op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
    real_vau = rp.row_column_vau
    rp.row_column_vau = lambda r, c, *a, **k: (np.asarray(r), np.asarray(c))
    try:
        no_disturb, _ = array(None, one_column_at_a_time)
    finally:
        rp.row_column_vau = real_vau
    out["half_select_disturb"] = scale(pair_diff(no_disturb, arr, masks))

    # one-step errors: each firing on the array's cells (independent under ideal lines) and through the LUT
    gmap = rp.ConductanceMap(wp, rec.meta["g_min"], rec.meta["g_max"])
    rows = []
    for l in range(rec.n_layers):
        g0 = np.stack([rec[f"l{l}_g0p"], rec[f"l{l}_g0n"]]).reshape(-1)
        fa = FastArray(wp, np.ones((g0.size, 1), bool), n_domains=CFG.bins_weight,
                       s_init=np.repeat(gmap.to_state(g0)[:, None, None], CFG.bins_weight, axis=2))
        last, mask = np.zeros(g0.size, int), np.ones(rec.shape(l), bool)
        for u in range(n_all):
            for _, e in rec.events_before(u):
                after = rec[f"l{l}_event_mask"][e]
                cut = np.tile(mask & ~after, (2, 1, 1)).reshape(-1)
                fa.state.s[cut], last[cut], mask = -1.0, 0, after
            for c in fires(rec, l, u):
                c = c.reshape(-1)
                if not c.any():
                    continue
                gb = gmap.to_lut(fa.conductance()[:, 0])
                fa.apply(row_column_vau(c, [0], *vau_args), warn=False)
                ga = gmap.to_lut(fa.conductance()[:, 0])
                gl = apply_pulses(lut, gb, c, None, noise=False, up=up, down=dn)
                nz = np.flatnonzero(c)
                rows.append(np.stack([(gb[nz] - g_min) / span, np.sign(c[nz]), np.abs(c[nz]),
                                      (last[nz] != 0) & (np.sign(c[nz]) != last[nz]), (ga[nz] - gb[nz]) / span,
                                      (gl[nz] - gb[nz]) / span]))
                last[nz] = np.sign(c[nz])
    g, sg, cnt, rev, d_arr, d_lut = np.concatenate(rows, axis=1)
    rev = rev.astype(bool)
    out["one_step"] = {"cell_firings": int(g.size), "reversal_fraction": float(rev.mean())}
    for name, k0 in (("reversal", rev), ("continuing", ~rev)):
        for s, sname in ((1, "up"), (-1, "down")):
            k = k0 & (sg == s)
            out["one_step"][f"{name}_{sname}"] = {"n": int(k.sum()), "array_step": float(d_arr[k].mean()),
                                                 "lut_step": float(d_lut[k].mean())}
    grid = np.linspace(0.0, 1.0, 21)
    bins = np.clip(np.rint(g * 20).astype(int), 0, 20)

    def fitted(sel, s):
        m = np.array([(d_arr / cnt)[sel & (sg == s) & (bins == b)].mean() if np.sum(sel & (sg == s) & (bins == b)) >= 3
                      else np.nan for b in range(21)])
        ok = ~np.isnan(m)
        if not ok.any():   # too few firings for a table (a small record): the class's mean step, 0 without any
            k = sel & (sg == s)
            return np.full(grid.shape, float((d_arr / cnt)[k].mean()) if k.any() else 0.0)
        return np.interp(grid, grid[ok], m[ok])

    t_g = {s: fitted(np.ones_like(rev), s) for s in (1, -1)}
    t_gr = {(r, s): fitted(rev == r, s) for r in (False, True) for s in (1, -1)}
    out["best_g_table"] = {}
    for name, fn in (("g_only", lambda x, s, r: np.interp(x, grid, t_g[s])),
                     ("g_and_reversal", lambda x, s, r: np.where(r, np.interp(x, grid, t_gr[(True, s)]),
                                                                 np.interp(x, grid, t_gr[(False, s)])))):
        h, _ = table_replay(rec, n_all, fn, g_min, span)
        out["best_g_table"][name] = {"vs_array": scale(pair_diff(h, arr, masks)),
                                     "vs_lut_mean": scale(pair_diff(h, lut_mean, masks))}
    out["mean_step_at_g"] = {"g": [0.1, 0.3, 0.5],
                             "array_fit_up": list(np.interp([0.1, 0.3, 0.5], grid, t_g[1])),
                             "array_fit_down": list(np.interp([0.1, 0.3, 0.5], grid, t_g[-1])),
                             "lut_up": [float(lut_step(x, 1, False)) for x in (0.1, 0.3, 0.5)],
                             "lut_down": [float(lut_step(x, -1, False)) for x in (0.1, 0.3, 0.5)]}
    print(json.dumps(out, indent=1))
    if args.json:
        write_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
