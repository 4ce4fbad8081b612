"""The array in the training loop: a device layer whose cells are the compact model, not the LUT.

:class:`ArrayDeviceLayer` keeps every cell of the G+ and G- arrays as a compact-model FeFET (the weight
FeFET's parameters, ``n_domains`` domains, the numpy fast path of
:class:`fefet_spice.array.fast.FastArray`) and fires every write of the trainer — transfer
(write-and-verify), on-chip updates and the pruning resets, all through :meth:`_fire` — as that many pulses of the device's own
programming pulse (``params.op``: amplitude, width, gap) through the fast path; the conductances the
network reads are the model's, mapped onto the LUT's range by relative position
(:class:`fefet_spice.array.replay.ConductanceMap`, as the whole-run replay does). The controller still
chooses its pulse counts with the LUT (its device model: :meth:`.device.DeviceLayer.cell_counts`), so
whatever the LUT does not capture — the domains' memory of the last pulses' direction above all — is
corrected only by the next read and update, as on a chip.

Why: a recorded run replayed open-loop on the arrays drifts from the LUT-driven conductances (7 % of the
range after ~10,000 cell pulses: the model's steps after a reversal of direction are 25-160 % larger
than the LUT's monotone-sweep steps; ``bench/replay_gap.py``); with the array in the loop that drift is
fed back the way a chip feeds it back. Each cell is a one-column row of its own fast-path array, so no
cell is half-selected (the replay measured zero half-select disturb for this scheme). Read noise is the
LUT's. With variation in ``params`` (``sigma_ea_d2d``, ``sigma_vt_d2d``, ``sigma_c2c``; a single-device fit
has none, :func:`fefet_spice.api.lut.with_variation_of` adds a preset's, as ``characterize --variation``
does) every cell is its own device sample and every pulse gets the cycle-to-cycle jitter, drawn from the
trainer's generator; without, every cell is the nominal device. Pure numpy.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..array.fast import FastArray
from ..array.replay import ConductanceMap
from ..array.schedule import row_column_vau
from ..model.simulate import sample_devices
from ..presets import nominal
from .device import DeviceLayer


def has_variation(params) -> bool:
    """Whether a weight FeFET carries device-to-device or cycle-to-cycle variation."""
    return params.sigma_ea_d2d > 0 or params.sigma_vt_d2d > 0 or params.sigma_c2c > 0


class ArrayDeviceLayer(DeviceLayer):
    """Differential pairs whose cells are compact-model FeFETs (fast path) read on the LUT's G range."""

    def __init__(self, lut, shape: tuple[int, int], w_max: float, params, levels: int = 16,
                 read_noise: bool = True, n_domains: int = 8, rng: np.random.Generator | None = None):
        super().__init__(lut, shape, w_max, levels, read_noise, write_noise=False)
        self.varied = has_variation(params)
        if self.varied and rng is None:
            raise ValueError("a weight FeFET with variation needs rng to draw its devices")
        self.params = replace(params, ferro=replace(params.ferro, n_domains=int(n_domains)))
        self.params = self.params if self.varied else nominal(self.params)
        self.gmap = ConductanceMap(nominal(params), lut.g_min, lut.g_max)
        op = self.params.op
        self._pulse = (op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
        g = np.stack([self.gp, self.gn]).reshape(-1)
        s0 = np.repeat(self.gmap.to_state(g)[:, None, None], int(n_domains), axis=2)
        devices = sample_devices(self.params, g.size, rng) if self.varied else None
        self.array = FastArray(self.params, np.ones((g.size, 1), dtype=bool), devices=devices, s_init=s0)
        self._readback()

    def _readback(self) -> None:
        g = self.gmap.to_lut(self.array.conductance()[:, 0]).reshape((2,) + self.gp.shape)
        self.gp, self.gn = g[0].copy(), g[1].copy()

    def _fire(self, counts: np.ndarray, rng: np.random.Generator) -> int:
        """Fire per-cell signed counts (2, M, N) as the device's pulses on the model; read G back."""
        counts = np.asarray(counts, dtype=np.int64)
        if not counts.any():
            return 0
        self.array.apply(row_column_vau(counts.reshape(-1), np.zeros(1, dtype=np.int64), *self._pulse), warn=False,
                         rng=rng if self.varied else None)
        self._readback()
        return int(np.abs(counts).sum())
