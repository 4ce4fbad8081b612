"""Device sweep: the same training protocol over several synapse LUTs, and the device properties each
accuracy is plotted against (pure numpy, no IO).

Properties of a LUT (its first up and down pulse kinds):

* ``levels``: pulses the mean up trajectory takes from 5 % to 95 % of [G_min, G_max] (the usable
  number of steps of one cell);
* ``nonlinearity``: NeuroSim's label of the mean up branch, ``max_x[Ĝ(x) - x] / 0.0989949`` on the
  normalized curve between those two points (0: linear; 1: NeuroSim's NL = 1);
* ``asymmetry``: mean |ΔG| of a down pulse over that of an up pulse, over the grid;
* ``noise``: median over the grid of the cycle-to-cycle spread of one up pulse over its mean step
  (σ/µ, as aihwkit's ``dw_min_std``);
* ``read_noise_levels``: the read-noise std in units of one nominal level of a 16-level cell.

The sweep LUTs shipped in ``luts/devices`` are made by :data:`DEVICES` (``fefet-spice device-sweep
--make-luts luts/devices``; seed 0): ``noisy`` and ``nonlinear`` characterized from the numpy compact
model, ``ideal`` a linear, symmetric, noise-free device on the model's G range.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lut.core import mean_branch

NL_NORM = 0.0989949
"""max_x[Ĝ(x) - x] of the curve NeuroSim labels NL = 1."""


def device_properties(lut, levels_per_cell: int = 16) -> dict:
    """Levels, nonlinearity, asymmetry, noise and read noise of ``lut`` (module docstring)."""
    g = mean_branch(lut, +1)
    span = lut.g_max - lut.g_min
    x = (g - lut.g_min) / span if span > 0 else np.zeros_like(g)
    i0 = int(np.argmax(x >= 0.05)) if np.any(x >= 0.05) else 0
    i1 = int(np.argmax(x >= 0.95)) if np.any(x >= 0.95) else len(x) - 1
    levels = max(i1 - i0, 1)
    seg = x[i0: i1 + 1]
    if seg.size > 2 and seg[-1] > seg[0]:
        gh = (seg - seg[0]) / (seg[-1] - seg[0])
        nl = float(np.max(gh - np.linspace(0, 1, seg.size)) / NL_NORM)
    else:
        nl = 0.0
    up, down = lut.kind_index(+1), lut.kind_index(-1)
    mu_up, mu_dn = np.abs(lut.dg_mean[up]), np.abs(lut.dg_mean[down])
    ok = mu_up > 1e-3 * max(float(mu_up.max()), 1e-300)
    noise = float(np.median(lut.dg_std[up][ok] / mu_up[ok])) if ok.any() else 0.0
    level = span / (levels_per_cell - 1) if span > 0 else 1.0
    return {"levels": int(levels), "nonlinearity": nl,
            "asymmetry": float(np.mean(mu_dn) / max(float(np.mean(mu_up)), 1e-300)),
            "noise": noise, "read_noise_levels": float(lut.read_noise / level),
            "g_min": float(lut.g_min), "g_max": float(lut.g_max)}


DEVICES = {
    "ideal": ("linear, symmetric and noise-free: 64 equal steps per polarity across the G range of the weight "
              "preset's model LUT, no read noise (the NeuroSim form with A -> infinity)", None, None),
    "noisy": ("weight preset (3.9 V pulses) with three times its cycle-to-cycle variation and read noise", 3.9,
              {"sigma_c2c": 0.3, "read_noise": 5.1e-8}),
    "nonlinear": ("weight preset with 4.2 V pulses: few, strongly state-dependent steps (abrupt switching)", 4.2, {}),
}
"""Sweep devices: name -> (description, pulse amplitude [V], FeFETParams changes); the compact model
characterizes ``noisy`` and ``nonlinear``; ``ideal`` takes its G range from the model (``volts`` None)."""


def device_params(name: str, base):
    """The :class:`FeFETParams` of model-made sweep device ``name`` (:data:`DEVICES`) from ``base``."""
    _, volts, top = DEVICES[name]
    if volts is None:
        raise ValueError(f"sweep device {name!r} is not characterized from the model")
    return replace(base, name=f"fefet_{name}", op=replace(base.op, v_pulse_up=volts, v_pulse_dn=-volts), **top)


def run_one(args) -> dict:
    """One (LUT, seed) training run of the sweep (picklable for a process pool)."""
    from .trainer import train

    name, lut, ds, rule, sch, seed = args
    res = train(ds, lut, rule, sch, seed=seed)
    keys = ("final_accuracy", "accuracy_update_off", "onchip_contribution", "onchip_recovery",
            "accuracy_after_transfer", "dense_software_accuracy", "final_sparsity", "update_pulses", "epochs_fired")
    return {"lut": name, "seed": seed, **{k: res[k] for k in keys}}


def summarize(rows: list[dict], props: dict[str, dict]) -> list[dict]:
    """One table row per LUT: its properties and the mean/std over seeds of the run figures."""
    out = []
    for name, p in props.items():
        mine = [r for r in rows if r["lut"] == name]
        row = {"lut": name, **p, "seeds": len(mine)}
        for k in ("final_accuracy", "accuracy_update_off", "onchip_contribution", "accuracy_after_transfer"):
            vals = np.array([r[k] for r in mine if r[k] is not None], dtype=float)
            row[k] = float(vals.mean()) if vals.size else None
            row[k + "_std"] = float(vals.std()) if vals.size else None
        out.append(row)
    return out
