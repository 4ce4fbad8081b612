"""Export a LUT as keyword arguments of IBM aihwkit's ``PiecewiseStepDevice``.

aihwkit (Rasch et al., AICAS 2021, DOI 10.1109/AICAS51828.2021.9458494) updates a weight by
``dw_min * v(w) * (1 + dw_min_std * xi)`` per pulse, with ``v`` interpolated on N equally spaced nodes
between w_min and w_max (``piecewise_up`` / ``piecewise_down``, positive magnitudes; N < 64 on GPU).
Here [G_min, G_max] maps affinely to [-1, 1], the nodes are ``w_k = -1 + 2k/(N-1)``, ``dw_min`` is the
mean normalized step at w = 0 (both polarities) and ``dw_min_std`` the median relative spread sigma/mu
of the LUT. ``up_down`` is 0 (the up/down asymmetry lives in the node values) and every variation field
of ``PulsedDevice`` is set explicitly, because its defaults are not zero (dw_min_dtod = 0.3,
w_max_dtod = 0.3, ...); the LUT's spread already lumps device-to-device and cycle-to-cycle variation.

The field list follows aihwkit 0.9 (``aihwkit/simulator/configs/devices.py``). ``drift`` is a nested
``DriftParameter`` whose default means "no drift"; it is left to aihwkit and listed under
``nested_defaults``. Load it: ``PiecewiseStepDevice(**json.load(f)["kwargs"])``, see docs/lut_exports.md.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .core import SynapseLUT

CLASS = "aihwkit.simulator.configs.devices.PiecewiseStepDevice"
MAX_NODES = 63
PIECEWISE_FIELDS = (
    # PulsedDevice
    "construction_seed", "corrupt_devices_prob", "corrupt_devices_range", "diffusion", "diffusion_dtod",
    "dw_min", "dw_min_dtod", "dw_min_dtod_log_normal", "dw_min_std", "enforce_consistency", "lifetime",
    "lifetime_dtod", "perfect_bias", "reset", "reset_dtod", "reset_std", "up_down", "up_down_dtod",
    "w_max", "w_max_dtod", "w_min", "w_min_dtod", "count_pulses",
    # PiecewiseStepDevice
    "piecewise_up", "piecewise_down", "write_noise_std", "apply_write_noise_on_set",
)
"""Every scalar/list constructor field of PiecewiseStepDevice (``drift`` is nested, see module doc)."""
NESTED_DEFAULTS = {"drift": "DriftParameter() - no drift"}


def _relative_spread(lut: SynapseLUT, kinds) -> float:
    """Median sigma/|mu| over grid points where the mean step is not negligible."""
    vals = []
    for k in kinds:
        mu, sd = np.abs(lut.dg_mean[k]), lut.dg_std[k]
        ok = mu > 1e-3 * mu.max()
        vals.append(sd[ok] / mu[ok])
    vals = np.concatenate(vals)
    return float(np.median(vals)) if vals.size else 0.0


def piecewise_kwargs(lut: SynapseLUT, n_nodes: int = 32, up: int | None = None, down: int | None = None,
                     seed: int = 0) -> dict:
    """The ``PiecewiseStepDevice`` keyword arguments (normalized units, every field explicit)."""
    if not 2 <= n_nodes <= MAX_NODES:
        raise DataError(f"aihwkit export: n_nodes must be in 2..{MAX_NODES}, got {n_nodes}")
    up = lut.kind_index(+1) if up is None else up
    down = lut.kind_index(-1) if down is None else down
    span = lut.g_max - lut.g_min
    w = -1.0 + 2.0 * np.arange(n_nodes) / (n_nodes - 1)
    g_nodes = lut.g_min + 0.5 * (w + 1.0) * span
    step_up = np.clip(np.interp(g_nodes, lut.g_grid, lut.dg_mean[up]), 0.0, None) * 2.0 / span
    step_dn = np.clip(-np.interp(g_nodes, lut.g_grid, lut.dg_mean[down]), 0.0, None) * 2.0 / span
    g0 = lut.g_min + 0.5 * span
    dw_min = 0.5 * (max(lut.mean_step(g0, up), 0.0) - min(lut.mean_step(g0, down), 0.0)) * 2.0 / span
    if not dw_min > 0:
        dw_min = float(max(step_up.max(), step_dn.max()))
    if not dw_min > 0:
        raise DataError("aihwkit export: the LUT has no positive step in either direction")
    kw = {
        "construction_seed": int(seed), "corrupt_devices_prob": 0.0, "corrupt_devices_range": 0.0,
        "diffusion": 0.0, "diffusion_dtod": 0.0,
        "dw_min": float(dw_min), "dw_min_dtod": 0.0, "dw_min_dtod_log_normal": False,
        "dw_min_std": _relative_spread(lut, (up, down)), "enforce_consistency": True,
        "lifetime": 0.0, "lifetime_dtod": 0.0, "perfect_bias": False,
        "reset": 0.0, "reset_dtod": 0.0, "reset_std": 0.0, "up_down": 0.0, "up_down_dtod": 0.0,
        "w_max": 1.0, "w_max_dtod": 0.0, "w_min": -1.0, "w_min_dtod": 0.0, "count_pulses": False,
        "piecewise_up": [float(v) for v in step_up / dw_min],
        "piecewise_down": [float(v) for v in step_dn / dw_min],
        "write_noise_std": 0.0, "apply_write_noise_on_set": False,
    }
    assert tuple(kw) == PIECEWISE_FIELDS
    return kw


def export_dict(lut: SynapseLUT, n_nodes: int = 32) -> dict:
    """JSON-ready export: class, kwargs, the conductance mapping and notes."""
    seed = (lut.meta.get("provenance") or {}).get("seed") or 0
    return {"format": "aihwkit-piecewise-step", "class": CLASS,
            "kwargs": piecewise_kwargs(lut, n_nodes, seed=int(seed)), "nested_defaults": NESTED_DEFAULTS,
            "mapping": {"g_min_S": lut.g_min, "g_max_S": lut.g_max, "w": "2 (G - g_min) / (g_max - g_min) - 1"},
            "read_noise_w": 2.0 * lut.read_noise / (lut.g_max - lut.g_min),
            "notes": "read_noise_w (std of a read in weight units) belongs to the forward IOParameters "
                     "(w_noise), not to the device."}


def write_aihwkit(lut: SynapseLUT, folder: str | os.PathLike, n_nodes: int = 32) -> list[Path]:
    """Write ``aihwkit_piecewise_step.json`` into ``folder``."""
    from ..io.atomic import write_json

    return [write_json(Path(folder) / "aihwkit_piecewise_step.json", export_dict(lut, n_nodes))]
