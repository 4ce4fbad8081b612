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

The sweep LUTs shipped in ``luts/devices`` are made by :func:`make_devices` from ``luts/weight_ref``
(``fefet-spice device-sweep --make-luts luts/devices``; seed 0), each changing one property of that
reference. The sweep gives the on-chip step in weight units (``step="reference"``, the default: the
schedule's ``step_unit`` set to the reference LUT's mean pulse, :func:`mean_pulse`), so every device is
asked for the same weight change and fires as many of its own pulses as that takes; the device then
matters only through how well its pulses carry out that change (levels, nonlinearity, asymmetry,
noise), not through a learning rate that follows its step size. (``step="pulse"``, the previous
behaviour, gives the step in each device's own mean pulse: a coarser device then also learns faster.)

* ``ideal``: linear, symmetric, noise-free, on weight_ref's G range with weight_ref's number of levels
  (the fewest equal steps whose ``levels`` reach weight_ref's: 65 steps per polarity for 58 levels);
* ``noisy``: weight_ref's own mean response (same levels, nonlinearity, asymmetry) with eight times its
  cycle-to-cycle spread and read noise;
* ``nonlinear``: the compact model's weight preset with 4.05 V pulses: abrupt, strongly state-dependent
  steps (35 pulses from 5 to 95 % of the range against weight_ref's 58; its mean step is about 2.5
  times weight_ref's: in the model a stronger nonlinearity comes only with larger steps).

The noise factor and the pulse amplitude were chosen on held-out training images (``--validation``)
with the step in pulses. The ideal device used to have weight_ref's mean pulse step instead of its
level count (27 steps): with the coarser steps it fell below weight_ref (BENCHMARKS.md).
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
    "ideal": "linear, symmetric and noise-free, weight_ref's G range and number of levels",
    "noisy": "weight_ref's mean response with eight times its cycle-to-cycle spread and read noise",
    "nonlinear": "compact model, weight preset with 4.05 V pulses: abrupt, strongly state-dependent steps",
}
"""Sweep devices: name -> description (module docstring; made by :func:`make_devices`)."""
NOISE_FACTOR = 8.0
"""Cycle-to-cycle and read-noise multiplier of the ``noisy`` device."""
NONLINEAR_VOLTS = 4.05
"""Pulse amplitude [V] of the ``nonlinear`` device (weight preset otherwise)."""


def mean_pulse(lut) -> float:
    """Mean |ΔG| of one pulse over the G grid, both polarities, over the G range (what sets the learning
    rate of a step given in pulses)."""
    up, down = lut.kind_index(+1), lut.kind_index(-1)
    return float(np.mean(np.abs(lut.dg_mean[[up, down]])) / (lut.g_max - lut.g_min))


def ideal_like(ref, seed: int = 0):
    """Linear, symmetric, noise-free LUT on ``ref``'s G range with ``ref``'s number of levels (the fewest
    equal steps per polarity whose :func:`device_properties` ``levels`` reach ``ref``'s)."""
    from ..lut.core import from_neurosim

    want = device_properties(ref)["levels"]
    steps = max(int(want), 2)
    while True:
        lut = from_neurosim(ref.g_min, ref.g_max, 1e9, 1e9, steps, rng=seed)
        if device_properties(lut)["levels"] >= want or steps > 4 * want:
            return lut
        steps += 1


def make_devices(ref, base_params, n_devices: int = 16, seed: int = 0) -> dict:
    """The sweep LUTs (:data:`DEVICES`) from the reference LUT ``ref`` (weight_ref) and the compact-model
    parameters ``base_params`` (weight preset): name -> :class:`SynapseLUT`."""
    from ..characterize import lut_from_model

    ideal = ideal_like(ref, seed)
    k = NOISE_FACTOR
    mean = ref.dg_mean[:, None, :]
    noisy = replace(ref, dg_std=k * ref.dg_std, dg_quantiles=mean + k * (ref.dg_quantiles - mean),
                    read_noise=k * ref.read_noise, meta={"source": "device-sweep", "reference": ref.meta.get("device")})
    op = replace(base_params.op, v_pulse_up=NONLINEAR_VOLTS, v_pulse_dn=-NONLINEAR_VOLTS)
    nonlinear = lut_from_model(replace(base_params, name="fefet_nonlinear", op=op), n_devices=n_devices, seed=seed)
    out = {"ideal": ideal, "noisy": noisy, "nonlinear": nonlinear}
    for name, lut in out.items():
        lut.meta.update(sweep_device=name, about=DEVICES[name], seed=seed)
    return out


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
