"""LUT from the numpy compact model (fast path): identical pulses of each polarity with variation."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import waveforms as wf
from ..lut.core import PulseKind, SynapseLUT, from_trajectories
from ..model.simulate import simulate
from ..params import FeFETParams


def lut_from_model(params: FeFETParams, n_pulses: int = 64, n_devices: int = 32, seed=0,
                   n_g: int = 64) -> SynapseLUT:
    """Characterize ``params`` with the numpy model: reset, ``n_pulses`` up pulses, ``n_pulses`` down
    pulses, read after each, over ``n_devices`` devices with their d2d/c2c variation (seeded)."""
    op = params.op
    # trajectories are noise-free reads; read noise is stored separately in the LUT
    res = simulate(replace(params, read_noise=0.0), wf.potentiation_depression(params, n_pulses, n_pulses),
                   n_devices=n_devices, seed=seed)
    g = np.concatenate([res.g_initial[:, None], res.g_after_pulse], axis=1)
    up, down = g[:, : n_pulses + 1], g[:, n_pulses:]
    kinds = {PulseKind(+1, op.v_pulse_up, op.t_pulse): up, PulseKind(-1, op.v_pulse_dn, op.t_pulse): down}
    return from_trajectories(kinds, n_g=n_g, read_noise=params.read_noise,
                             meta={"source": "numpy-model", "device": params.name, "seed": seed,
                                   "n_devices": n_devices, "n_pulses": n_pulses})
