"""Benchmark: programming schemes in ngspice — the cell-level sweep and VAU updates of M x M arrays.

    PYTHONPATH=. python bench/bench_schemes.py [--sizes 4 8 16] [--schemes paper dil_follow] [--width 100e-9]
        [--sweep] [--json out/bench_schemes.json]

Arrays: a random 75 % sparsity mask and column operators in [-2, 2] (seed = size), row operators 0 (so
the whole energy is column steps, which the cell roles predict); kept weights start mid-range, pruned
ones at G_min. Per size and scheme: ngspice wall time, the array's energy against the sum of the
cell-level role energies, the largest kept-cell difference from the numpy fast path with ideal
masking (fraction of the G range), the largest change of a pruned cell and of a kept cell in an
unselected column (levels = G range / 15). ``--sweep`` also times ``fefet-spice schemes`` (3 schemes
x 3 widths, cell level) on the fitted device.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fefet_spice import presets  # noqa: E402
from fefet_spice.array import FastArray  # noqa: E402
from fefet_spice.array.schemes import get_scheme  # noqa: E402
from fefet_spice.spice.scheme_array import predicted_column_energy, role_energies, vau_update  # noqa: E402
from fefet_spice.spice.scheme_points import conductance, equal_update_amplitude, level_step  # noqa: E402


def one(m: int, scheme: str, weight, sparsity, width: float) -> dict:
    rng = np.random.default_rng(m)
    mask = rng.random((m, m)) >= 0.75
    c = rng.integers(-2, 3, m)
    r = np.zeros(m, int)
    s0 = np.where(mask, 0.0, -1.0)
    sc = get_scheme(scheme)
    amp = equal_update_amplitude(weight, width)
    t0 = time.perf_counter()
    res = vau_update(weight, sparsity, sc, mask, s0, r, c, amp, width)
    t_array = time.perf_counter() - t0
    roles = role_energies(weight, sparsity, sc, amp, width)
    pred = predicted_column_energy(roles, mask, c)
    fast = FastArray(weight, mask, n_domains=12, s_init=s0).apply(res["schedule"]).conductance()
    span = float(np.diff(conductance(weight, np.array([-1.0, 1.0])))[0])
    step = level_step(weight)
    dg = res["g1"] - res["g0"]
    unsel = np.broadcast_to((c == 0)[None, :], mask.shape) & mask
    return {"size": m, "scheme": scheme, "width_s": width, "amplitude_v": amp, "kept": int(mask.sum()),
            "pulses": int(np.abs(c).sum()), "t_ngspice_s": t_array, "energy_array_j": res["energy_j"],
            "energy_cells_j": pred, "energy_ratio": res["energy_j"] / pred,
            "max_kept_err_vs_fast": float(np.abs(res["g1"] - fast)[mask].max() / span),
            "max_pruned_change_levels": float(np.abs(dg)[~mask].max() / step) if (~mask).any() else 0.0,
            "max_unselected_change_levels": float(np.abs(dg)[unsel].max() / step) if unsel.any() else 0.0,
            "mean_kept_change_levels": float(np.abs(dg)[mask].mean() / step)}


def sweep_time() -> dict:
    from fefet_spice.cli import main

    out = ROOT / "out" / "bench_schemes_sweep"
    t0 = time.perf_counter()
    rc = main(["schemes", "--params", str(ROOT / "fits" / "weight_ref.json"), "--widths", "10n,100n,1u",
               "-o", str(out)])
    return {"rc": rc, "t_sweep_s": time.perf_counter() - t0, "points": 9, "out": str(out)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--schemes", nargs="+", default=["paper", "dil_follow"])
    ap.add_argument("--width", type=float, default=100e-9)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    weight = presets.nominal(presets.get("weight"))
    sparsity = presets.nominal(presets.get("sparsity"))
    rows = []
    for m in args.sizes:
        for sc in args.schemes:
            rec = one(m, sc, weight, sparsity, args.width)
            rows.append(rec)
            print(json.dumps(rec), flush=True)
    doc = {"arrays": rows}
    if args.sweep:
        doc["sweep"] = sweep_time()
        print(json.dumps(doc["sweep"]), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
