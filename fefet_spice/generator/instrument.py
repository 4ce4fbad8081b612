"""Instrument effects on a current reading: noise, finite resolution and compliance."""
from __future__ import annotations

import numpy as np

from .device import GeneratorConfig


def measure_current(i_true, cfg: GeneratorConfig, rng: np.random.Generator) -> np.ndarray:
    """Reading [A] of true currents ``i_true`` [A]: multiplicative noise, noise floor,
    ``cfg.digits`` significant digits (never finer than ``cfg.resolution``) and compliance clipping."""
    i = np.asarray(i_true, dtype=float)
    i = i * (1.0 + cfg.rel_noise * rng.standard_normal(i.shape)) + cfg.floor_noise * rng.standard_normal(i.shape)
    return quantize(np.clip(i, -cfg.compliance, cfg.compliance), cfg)


def quantize(i, cfg: GeneratorConfig) -> np.ndarray:
    """Round to ``cfg.digits`` significant digits with an absolute resolution floor [A]."""
    i = np.asarray(i, dtype=float)
    mag = np.floor(np.log10(np.maximum(np.abs(i), cfg.resolution)))
    q = np.maximum(10.0 ** (mag - (cfg.digits - 1)), cfg.resolution)
    return np.round(i / q) * q


def measure_conductance(g_true, read_noise: float, vd: float, cfg: GeneratorConfig,
                        rng: np.random.Generator) -> np.ndarray:
    """Pulse-read conductance [S]: read noise ``read_noise`` [S] then the current instrument at ``vd`` [V]."""
    g = np.asarray(g_true, float) + read_noise * rng.standard_normal(np.shape(g_true))
    return measure_current(g * vd, cfg, rng) / vd
