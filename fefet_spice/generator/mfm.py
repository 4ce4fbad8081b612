"""Synthetic MFM capacitor experiment: triangular Q-V loops with a nested minor loop at several ramp rates.

The truth is the numpy capacitor model (:mod:`fefet_spice.model.capacitor`) of a given ferroelectric,
sampled on a uniform clock with Gaussian charge noise; loops a decade apart in ramp rate make tau0,
alpha and Ea separable, and the minor loop exercises the domain history.
"""
from __future__ import annotations

import numpy as np

from ..model.capacitor import CapacitorParams, charge
from ..params import FerroParams
from ..readers.qv import QVTrace

TRUTH_FERRO = FerroParams(n_domains=64, ps=0.17, ea_up=2.2, ea_dn=2.0, ea_sigma=0.6, ea_corr=0.3, v_imp=0.1,
                          alpha=2.8, beta=1.3, tau0=3e-7, eps_r=55.0)
"""A ferroelectric close to the fit of MFM_scheme1 (shared data), with beta != 1 to be recovered."""
TRUTH_CAP = CapacitorParams(g_leak=30.0, q_offset=0.01, p_init=1.0)
"""Leakage, offset and initial state of the synthetic traces."""


def triangle(points, rate: float, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Times [s] and voltages [V] of straight ramps through ``points`` at ``rate`` [V/s]."""
    knots = np.concatenate(([0.0], np.cumsum(np.abs(np.diff(points)) / rate)))
    t = np.linspace(0.0, knots[-1], n_samples)
    return t, np.interp(t, knots, points)


def mfm_traces(fp: FerroParams = TRUTH_FERRO, cp: CapacitorParams = TRUTH_CAP, rates=(5e3, 5e4, 5e5),
               amplitude: float = 3.0, n_samples: int = 1200, noise: float = 1e-3,
               rng: np.random.Generator | int = 0) -> list[QVTrace]:
    """One trace per ramp rate: +A -> -A -> +0.4A -> -0.4A -> +A, from saturation up.

    ``noise``: std of the charge noise as a fraction of Ps [-]. ``rng``: Generator or seed.
    """
    rng = np.random.default_rng(rng)
    a = amplitude
    out = []
    for k, rate in enumerate(rates):
        t, v = triangle(np.array([a, -a, 0.4 * a, -0.4 * a, a]), rate, n_samples)
        q = charge(fp, cp, t, v) + noise * fp.ps * rng.standard_normal(len(t))
        out.append(QVTrace(t, v, q, f"synthetic_mfm_{k}", tuple(range(2, len(t) + 2))))
    return out


def generate_mfm(out, seed: int = 2025, fp: FerroParams = TRUTH_FERRO, cp: CapacitorParams = TRUTH_CAP) -> list:
    """Write the synthetic traces as ``<out>/mfm_rate<k>.csv`` (our CSV, ``kind: qv``) plus ``truth.json``."""
    import dataclasses
    from pathlib import Path

    from ..io.atomic import write_json
    from ..params import FeFETParams, to_dict
    from ..readers.qv import write

    out = Path(out)
    rates = (5e3, 5e4, 5e5)
    files = [write(out / f"mfm_rate{k}.csv", tr, {"ramp_rate": f"{r:g} V/s", "seed": seed})
             for k, (tr, r) in enumerate(zip(mfm_traces(fp, cp, rates, rng=seed), rates))]
    truth = {"device": to_dict(FeFETParams(name="mfm_truth", ferro=fp)), "capacitor": dataclasses.asdict(cp),
             "noise_fraction_of_ps": 1e-3, "seed": seed}
    return files + [write_json(out / "truth.json", truth)]
