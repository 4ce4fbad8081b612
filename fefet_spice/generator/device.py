"""Higher-fidelity synthetic FeFET: many discrete domains that flip at random (NLS), instrument effects.

This is *not* the fitting model. Differences from :mod:`fefet_spice.model`:

* ``n_domains`` (default 2000) binary domains with random (not quantile) activation voltages, random
  sizes (gamma distributed) and partially decorrelated up/down activation;
* nucleation-limited switching as a random process: each domain draws a nucleation budget
  ``E ~ Exp(1)`` when it last flipped and flips once its accumulated progress ``h = sum r dt``
  satisfies ``h^beta >= E`` (so the survival probability is ``exp(-h^beta)``; Tagantsev et al. 2002,
  DOI 10.1103/PhysRevB.66.214109); progress accumulates over separate pulses;
* device-to-device spread (activation scale, threshold shift) drawn from the preset's sigmas;
* multiplicative 1/f-like read noise on DC currents, conductance read noise on pulse reads,
  a current noise floor, 4-digit / 10 fA quantization and compliance (:mod:`.instrument`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.channel import drain_current
from ..model.ferro import log_rate
from ..params import FeFETParams
from ..waveforms import Waveform


@dataclass(frozen=True)
class GeneratorConfig:
    """Settings of the synthetic device and instrument that are not compact-model parameters."""

    n_domains: int = 2000
    """Number of discrete domains [-]."""
    size_shape: float = 4.0
    """Gamma shape of the domain sizes [-] (relative size spread 1/sqrt(shape))."""
    ea_decorrelation: float = 0.3
    """Weight of an independent normal in the down activation quantile [-] (0: identical up/down order)."""
    rel_noise: float = 0.01
    """Relative (multiplicative) read noise on DC currents [-]."""
    floor_noise: float = 5e-15
    """Additive current noise floor [A]."""
    resolution: float = 10e-15
    """Current resolution floor of the instrument [A]."""
    digits: int = 4
    """Significant digits of the current reading [-]."""
    compliance: float = 100e-6
    """Current compliance [A]: readings are clipped at +/- this value."""


@dataclass
class DiscreteDevice:
    """One drawn device: per-domain activations, sizes, states and nucleation budgets (mutable)."""

    params: FeFETParams
    ea_up: np.ndarray
    ea_dn: np.ndarray
    weight: np.ndarray
    vt_shift: float
    ea_scale: float
    s: np.ndarray
    h: np.ndarray
    budget: np.ndarray

    @property
    def p_norm(self) -> float:
        """Net polarization P/Ps [-]."""
        return float(self.weight @ self.s)


def draw_device(params: FeFETParams, cfg: GeneratorConfig, rng: np.random.Generator) -> DiscreteDevice:
    """Draw one device from the population described by ``params`` (Gaussian Ea, d2d sigmas)."""
    fp, n = params.ferro, cfg.n_domains
    z = rng.standard_normal(n)
    c = cfg.ea_decorrelation
    z_dn = (z + c * rng.standard_normal(n)) / np.sqrt(1.0 + c * c)
    scale = float(np.exp(params.sigma_ea_d2d * rng.standard_normal()))
    if fp.ea_dist == "gaussian":
        ea_up, ea_dn = fp.ea_up + fp.ea_sigma * z, fp.ea_dn + fp.ea_sigma * z_dn
    else:
        ea_up, ea_dn = fp.ea_up * np.exp(fp.ea_sigma * z), fp.ea_dn * np.exp(fp.ea_sigma * z_dn)
    w = rng.gamma(cfg.size_shape, 1.0, n)
    vt_shift = float(params.sigma_vt_d2d * rng.standard_normal())
    return DiscreteDevice(params=params, ea_up=np.maximum(ea_up * scale, 0.1), ea_dn=np.maximum(ea_dn * scale, 0.1),
                          weight=w / w.sum(), vt_shift=vt_shift, ea_scale=scale, s=-np.ones(n),
                          h=np.zeros(n), budget=rng.exponential(1.0, n))


def step(dev: DiscreteDevice, drive: float, dt: float, rng: np.random.Generator) -> None:
    """Advance the domains through ``dt`` [s] at constant ferroelectric drive ``drive`` [V]."""
    fp = dev.params.ferro
    x = drive - fp.v_imp
    if x == 0.0:
        return
    sign = 1.0 if x > 0 else -1.0
    cand = dev.s != sign
    if not cand.any():
        return
    ea = (dev.ea_up if x > 0 else dev.ea_dn)[cand]
    dev.h[cand] += np.exp(np.minimum(log_rate(abs(x), ea, fp.alpha, fp.tau0) + np.log(dt), 80.0))
    flip = cand & (dev.h ** fp.beta >= dev.budget)
    k = int(flip.sum())
    if k:
        dev.s[flip] = sign
        dev.h[flip] = 0.0
        dev.budget[flip] = rng.exponential(1.0, k)


def run(dev: DiscreteDevice, waveform: Waveform, rng: np.random.Generator, vd_default: float = 0.1):
    """Polarization P/Ps and ideal drain current [A] at the end of every segment of ``waveform``."""
    vd = np.where(np.isnan(waveform.vd), vd_default, waveform.vd)
    p = np.empty(len(waveform))
    for k in range(len(waveform)):
        step(dev, waveform.vg[k] - 0.5 * vd[k], waveform.dt[k], rng)
        p[k] = dev.p_norm
    prm = dev.params
    vt = prm.vt_mid + dev.vt_shift - 0.5 * prm.mw * p
    current = np.where(vd != 0.0, drain_current(prm.channel, waveform.vg, vd, vt), 0.0)
    return p, current, vd
