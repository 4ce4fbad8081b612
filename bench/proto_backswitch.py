"""PROTOTYPE (not in the package): back-switching at fields parallel to the polarization, scored on
held-out sweeps of MFM_scheme1 with the protocol of ``bench_fit_qv.py --variants`` (cold multi-start fits,
<= 200 evaluations per start, one part of the trace masked out and predicted through the whole history).

Run: ``.venv/bin/python bench/proto_backswitch.py MECH [--splits seg0,...,h60] [--plot seg0.png]``
(prints JSON). Every mechanism runs with beta = 1, one imprint group and the default Gaussian activations;
it replaces ``fefet_spice.fit.qv.model_charge`` for the run (monkeypatched, restored on exit) and adds its
parameter(s) to the fit. ``Q = Ps <s> + eps0 eps_r V / t_fe + q_offset`` as in the package; ``<s>``:

* ``default``: the package's model (``_group_history`` with ``x = V - V_imp``);
* ``meanfield``: a mean-field depolarization, ``x = V - V_imp - v_dep <s>`` (v_dep >= 0), stepped sample
  by sample (``s -> d + (s - d) exp(-r(x) dt)``, exact for beta = 1), ``<s>`` implicit: where the explicit
  step flips the drive's sign (near-instant domains pin x at 0) a bisection solves the step;
* ``bias``: a back-switching bias ``v_b`` >= 0: down switching driven by ``V_imp + v_b - V`` (it starts
  while ``V > V_imp``), up switching by ``V - V_imp + v_b``; in the band ``|V - V_imp| < v_b`` the sweep
  direction decides (vectorised like the package: one ``_group_history`` call);
* ``bias_spread``: the same per domain, ``b_i`` from half-normal quantiles of spread ``sigma_b`` (four
  groups of 16 domains, every group a spread of activations);
* ``side``: two side groups (weight ``side_f / 2`` each, 16 domains) with internal bias ``V_imp +/- side_b``
  and activations scaled by ``side_k``: hysterons whose loops sit on one side of 0 V, so they switch
  back at fields parallel to the polarization (a split imprint).

Findings and the measured table: BENCHMARKS.md, "Back-switching at fields parallel to the polarization".
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.special import ndtri  # noqa: E402

from bench_fit_qv import SRC, _split_mask  # noqa: E402
from fefet_spice import presets  # noqa: E402
from fefet_spice.fit import qv  # noqa: E402
from fefet_spice.model.capacitor import _group_history, dielectric_charge, interval_drive  # noqa: E402
from fefet_spice.model.ferro import V_EPS, domain_activation  # noqa: E402
from fefet_spice.readers.qv import read  # noqa: E402


def _step(s, x, a_up, a_dn, alpha, ln_dt):
    """States after one interval of constant drive x (beta = 1): ``d + (s - d) exp(-r dt)``."""
    d = 1.0 if x > 0 else -1.0
    e = (a_up if x > 0 else a_dn) * max(abs(x), V_EPS) ** (-alpha)  # (Ea / |x|)^alpha
    np.subtract(ln_dt, e, out=e)
    np.exp(e, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    return (s - d) * e + d


def meanfield(fp, t, v, s0, p, ea):
    dt, vm = interval_drive(t, v)
    a_up, a_dn = ea[0] ** fp.alpha, ea[1] ** fp.alpha
    ln_dt = np.log(dt) - np.log(fp.tau0)
    y, vdep = vm - fp.v_imp, p["v_dep"]
    s = np.full(len(a_up), float(s0))
    out = np.empty(len(dt) + 1)
    out[0] = sb = s.mean()
    for k in range(len(dt)):
        x = y[k] - vdep * sb
        if x != 0.0:
            s_new = _step(s, x, a_up, a_dn, fp.alpha, ln_dt[k])
            m = s_new.mean()
            if vdep > 0 and (y[k] - vdep * m) * x < 0:  # implicit <s>: bisection on mean(step(x(m))) = m
                lo, hi = min(sb, m), max(sb, m)
                while hi - lo > 1e-9:
                    mid = 0.5 * (lo + hi)
                    xm = y[k] - vdep * mid
                    s_new = _step(s, xm, a_up, a_dn, fp.alpha, ln_dt[k]) if xm != 0 else s
                    lo, hi = (mid, hi) if s_new.mean() > mid else (lo, mid)
                m = s_new.mean()
            s, sb = s_new, m
        out[k + 1] = sb
    return out


def _bias_history(fp, t, v, s0, vb, ea):
    dt, vm = interval_drive(t, v)
    y = vm - fp.v_imp
    sweep = np.sign(np.diff(np.asarray(v, float)))
    idx = np.maximum.accumulate(np.where(sweep != 0, np.arange(len(sweep)), 0))
    sweep = sweep[idx]
    sweep[sweep == 0] = 1  # flat intervals keep the last sweep direction
    d = np.where(y > vb, 1, np.where(y < -vb, -1, sweep))
    x = np.where(d > 0, y + vb, y - vb)
    x = np.where(x == 0, d * V_EPS, x)
    return _group_history(fp, dt, x, np.full(len(ea[0]), float(s0)), ea[0], ea[1]).mean(axis=1)


def bias(fp, t, v, s0, p, ea):
    return _bias_history(fp, t, v, s0, p["v_b"], ea)


def bias_spread(fp, t, v, s0, p, ea, groups=4):
    levels = p["sigma_b"] * ndtri(0.5 + 0.5 * (np.arange(groups) + 0.5) / groups)
    return np.mean([_bias_history(fp, t, v, s0, b, (ea[0][g::groups], ea[1][g::groups]))
                    for g, b in enumerate(levels)], axis=0)


def side(fp, t, v, s0, p, ea, n_side=16):
    dt, vm = interval_drive(t, v)
    main = _group_history(fp, dt, vm - fp.v_imp, np.full(len(ea[0]), float(s0)), *ea).mean(axis=1)
    pick = np.linspace(0, len(ea[0]) - 1, n_side).round().astype(int)
    e_up, e_dn = p["side_k"] * ea[0][pick], p["side_k"] * ea[1][pick]
    groups = [_group_history(fp, dt, vm - fp.v_imp - sgn * p["side_b"], np.full(n_side, float(s0)), e_up, e_dn)
              .mean(axis=1) for sgn in (1, -1)]
    return (1 - p["side_f"]) * main + 0.5 * p["side_f"] * (groups[0] + groups[1])


MECHANISMS = {  # name -> (<s>(t) function, {parameter: (start, lower, upper)})
    "default": (None, {}),
    "meanfield": (meanfield, {"v_dep": (0.3, 0.0, 3.0)}),
    "bias": (bias, {"v_b": (0.3, 0.0, 3.0)}),
    "bias_spread": (bias_spread, {"sigma_b": (0.5, 0.0, 3.0)}),
    "side": (side, {"side_f": (0.1, 0.0, 0.5), "side_b": (1.0, 0.0, 3.0), "side_k": (0.5, 0.05, 1.5)}),
}


@contextmanager
def patched(name: str):
    """fefet_spice.fit.qv with the mechanism's model and parameters for the duration of the block."""
    hist, extra = MECHANISMS[name]
    saved = (qv.model_charge, qv._start, dict(qv.BOUNDS), dict(qv.UNITS))
    if hist is not None:
        start0 = qv._start

        def model_charge(v, base, traces, init):
            fp = qv._ferro(v, base)
            ea = domain_activation(fp)
            return [fp.ps * hist(fp, tr.t, tr.v, cp.p_init, v, ea) + dielectric_charge(fp, tr.v) + cp.q_offset
                    for tr, cp in zip(traces, qv._caps(v, fp, traces, init))]

        qv.model_charge = model_charge
        qv._start = lambda base, traces, free: {**start0(base, traces, free), **{k: s for k, (s, _, _) in extra.items()}}
        qv.BOUNDS.update({k: (lo, hi) for k, (_, lo, hi) in extra.items()})
        qv.UNITS.update({k: "-" for k in extra})
    try:
        yield set(extra)
    finally:
        qv.model_charge, qv._start = saved[:2]
        qv.BOUNDS.clear(), qv.BOUNDS.update(saved[2]), qv.UNITS.clear(), qv.UNITS.update(saved[3])


def score(trace, name: str, splits, plot: Path | None = None) -> dict:
    base = replace(presets.get("weight").ferro, beta=1.0)
    out = {}
    with patched(name) as extra:
        free = qv.default_free([trace])[0] | extra
        for sp in splits:
            c0 = time.process_time()
            res = qv.fit_qv([trace], base, free, max_nfev=200, masks=[_split_mask(trace, sp)], covariance=False)
            m = res.metrics[0]
            at_bound = sorted(k for k in free if min(abs(res.values[k] - b) for b in qv.BOUNDS[k])
                              < 1e-3 * (1 + max(abs(b) for b in qv.BOUNDS[k])))
            out[sp] = {"heldout_pct": round(100 * m["heldout_nrmse"], 3), "train_pct": round(100 * m["train_nrmse"], 3),
                       "cpu_s": round(time.process_time() - c0, 1), "eps_r": round(res.values["eps_r"], 1),
                       "at_bound": at_bound, **{k: round(res.values[k], 3) for k in sorted(extra)}}
            if sp == "seg0" and plot is not None:
                _plot(trace, qv.model_charge(res.values, base, [trace], "up")[0], name, plot)
    out["mean_heldout_pct"] = round(statistics.mean(r["heldout_pct"] for r in out.values()), 3)
    return out


def _plot(trace, q, name: str, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = qv.sweep_segments(trace)[0]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    ax[0].plot(trace.v[a:b], 100 * trace.q[a:b], "k.", ms=2, label="data")
    ax[0].plot(trace.v[a:b], 100 * q[a:b], label=f"{name}, fitted without seg0")
    ax[1].plot(trace.v[a:b], 100 * (q[a:b] - trace.q[a:b]))
    ax[0].set_ylabel("Q [uC/cm2]")
    ax[1].set_ylabel("model - data [uC/cm2]")
    for x in ax:
        x.set_xlabel("V [V]")
        x.invert_xaxis()
        x.grid(alpha=0.3)
    ax[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mechanisms", nargs="+", choices=sorted(MECHANISMS))
    ap.add_argument("--splits", default="seg0,seg1,seg2,seg3,seg4,seg5,h60")
    ap.add_argument("--data", type=Path, default=SRC)
    ap.add_argument("--plot", type=Path, help="seg0 figure (PNG; the mechanism's name is appended)")
    args = ap.parse_args()
    if not args.data.exists():
        raise SystemExit(f"{args.data} is absent: the prototype needs the shared data folder (or --data)")
    trace = read(args.data, {"q": "C/cm2"})
    rows = {m: score(trace, m, args.splits.split(","), args.plot and args.plot.with_name(f"{args.plot.stem}_{m}.png"))
            for m in args.mechanisms}
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
