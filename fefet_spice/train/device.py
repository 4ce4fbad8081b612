"""Crossbar layers: a float (software) layer and a device layer of differential FeFET pairs.

Device layer (``../shared/SPEC.md`` section 2): a weight is ``w = scale * (G+ - G-)`` of two cells of
``levels`` (16) nominal levels each, so a pair spans ``±(levels - 1)`` levels (5 bit). Sign-magnitude:
one cell of each pair stays at G_min. Conductances move **only** through the LUT
(:func:`fefet_spice.lut.core.apply_pulses`, state-dependent mean step plus its spread). A signed pulse
count ``n`` in the *weight* direction goes to the active cell of the pair: ``G+`` gets ``n`` pulses when
``w > 0``, ``G-`` gets ``-n`` when ``w < 0``; a pair within half a level of zero sends ``n`` to ``G+``
and ``-n`` to ``G-`` (whichever is at the floor stays clipped there), so a weight can change sign.
Cells with the sparsity bit off (S = 0) never receive a pulse. Reads add Gaussian read noise per cell.
"""
from __future__ import annotations

import numpy as np

from ..lut.core import SynapseLUT, apply_pulses


class FloatLayer:
    """Software baseline: exact float weights ``w`` (M, N) with a pruning mask."""

    def __init__(self, w: np.ndarray, w_max: float, pulse_w: float):
        self.w = np.clip(np.array(w, dtype=float), -w_max, w_max)
        self.mask = np.ones(self.w.shape, dtype=bool)
        self.w_max = float(w_max)
        self.pulse_w = float(pulse_w)
        """Weight change equivalent to one device pulse (sets the Adam step unit) [weight units]."""

    def weights(self) -> np.ndarray:
        """True effective weights ``S ⊙ W``."""
        return np.where(self.mask, self.w, 0.0)

    def read(self, rng: np.random.Generator) -> np.ndarray:
        return self.weights()

    def add(self, delta: np.ndarray) -> None:
        self.w = np.clip(self.w + np.where(self.mask, delta, 0.0), -self.w_max, self.w_max)

    def prune(self, sel: np.ndarray, rng: np.random.Generator, **_) -> int:
        self.w[sel] = 0.0
        self.mask[sel] = False
        return 0

    def regrow(self, sel: np.ndarray) -> None:
        self.mask[sel] = True


class DeviceLayer:
    """Differential pairs of LUT-driven FeFET cells holding an (M, N) weight matrix."""

    def __init__(self, lut: SynapseLUT, shape: tuple[int, int], w_max: float, levels: int = 16,
                 read_noise: bool = True, write_noise: bool = True):
        self.lut = lut
        self.gp = np.full(shape, lut.g_min)
        self.gn = np.full(shape, lut.g_min)
        self.mask = np.ones(shape, dtype=bool)
        self.g_level = (lut.g_max - lut.g_min) / (levels - 1)
        """Conductance of one nominal level [S]."""
        self.scale = w_max / (lut.g_max - lut.g_min)
        """Weight per siemens of ``G+ - G-`` [1/S]."""
        self.w_max = float(w_max)
        self.read_noise, self.write_noise = read_noise, write_noise
        self.up, self.down = lut.kind_index(+1), lut.kind_index(-1)
        self.g_pulse = float(np.mean(np.abs(lut.dg_mean[[self.up, self.down]])))
        """Nominal conductance change of one pulse (mean |ΔG| over the grid, both polarities) [S]."""
        self.pulse_w = self.scale * self.g_pulse
        """Weight change of one nominal pulse [weight units]."""

    # --- reads -------------------------------------------------------------------------------
    def weights(self) -> np.ndarray:
        """Noise-free effective weights ``S ⊙ scale (G+ - G-)``."""
        return np.where(self.mask, self.scale * (self.gp - self.gn), 0.0)

    def read(self, rng: np.random.Generator) -> np.ndarray:
        """Effective weights as a MAC sees them: each cell read with Gaussian read noise."""
        if not (self.read_noise and self.lut.read_noise > 0):
            return self.weights()
        noise = self.lut.read_noise * rng.standard_normal((2,) + self.gp.shape)
        return np.where(self.mask, self.scale * (self.gp + noise[0] - self.gn - noise[1]), 0.0)

    # --- writes ------------------------------------------------------------------------------
    def _split(self, n: np.ndarray) -> np.ndarray:
        """Per-cell counts (2, M, N) for a signed weight-direction count ``n``, masked by S."""
        d = self.gp - self.gn
        half = 0.5 * self.g_level
        n = np.where(self.mask, n, 0)
        return np.stack([np.where(d >= -half, n, 0), np.where(d <= half, -n, 0)]).astype(np.int64)

    def sides(self) -> tuple[np.ndarray, np.ndarray]:
        """Active cells whose G+ responds (``w >= -half level``) and whose G- responds (``w <= half``);
        pairs within half a level of zero are in both."""
        d = self.gp - self.gn
        half = 0.5 * self.g_level
        return self.mask & (d >= -half), self.mask & (d <= half)

    def apply_pair(self, n_plus: np.ndarray, n_minus: np.ndarray, rng: np.random.Generator) -> int:
        """Apply separate weight-direction counts to the G+ array (``n_plus``) and the G- array
        (``n_minus``, fired with inverted polarity) in the same step; only the responding cell of each
        active pair moves (:meth:`sides`). Returns the number of cell pulses fired."""
        plus, minus = self.sides()
        counts = np.stack([np.where(plus, n_plus, 0), np.where(minus, -np.asarray(n_minus), 0)]).astype(np.int64)
        return self._fire(counts, rng)

    def apply(self, n: np.ndarray, rng: np.random.Generator) -> int:
        """Apply signed weight-direction pulse counts ``n`` (M, N) through the LUT; returns the number
        of cell pulses fired."""
        return self._fire(self._split(np.asarray(n)), rng)

    def _fire(self, counts: np.ndarray, rng: np.random.Generator) -> int:
        if not counts.any():
            return 0
        g = apply_pulses(self.lut, np.stack([self.gp, self.gn]), counts, rng, noise=self.write_noise,
                         up=self.up, down=self.down)
        self.gp, self.gn = g[0], g[1]
        return int(np.abs(counts).sum())

    def cell_counts(self, delta_w: np.ndarray, max_pulses: int) -> np.ndarray:
        """Precise per-cell counts: for each cell, the count (<= ``max_pulses``) whose mean LUT
        trajectory from the cell's own state lands closest to ``w + delta_w``."""
        target = (self.gp - self.gn) + delta_w / self.scale
        best = np.zeros(self.gp.shape, dtype=np.int64)
        for sign in (1, -1):
            gp, gn = self.gp.copy(), self.gn.copy()
            err = np.abs(target - (gp - gn))
            for k in range(1, max_pulses + 1):
                counts = self._split(np.full(self.gp.shape, sign))
                gp = self._mean_step(gp, counts[0])
                gn = self._mean_step(gn, counts[1])
                e = np.abs(target - (gp - gn))
                better = e < err - 1e-18
                best[better], err[better] = sign * k, e[better]
        return np.where(self.mask, best, 0)

    def expected_change(self, n: np.ndarray) -> np.ndarray:
        """Mean weight change [weight units] that signed weight-direction counts ``n`` would make from the
        present state along the mean LUT paths (no noise; nothing is written)."""
        counts = self._split(np.asarray(n))
        gp, gn = self.gp.copy(), self.gn.copy()
        for k in range(int(np.abs(counts).max(initial=0))):
            gp = self._mean_step(gp, np.where(np.abs(counts[0]) > k, counts[0], 0))
            gn = self._mean_step(gn, np.where(np.abs(counts[1]) > k, counts[1], 0))
        return np.where(self.mask, self.scale * ((gp - gn) - (self.gp - self.gn)), 0.0)

    def _mean_step(self, g: np.ndarray, c: np.ndarray) -> np.ndarray:
        step = np.where(c > 0, np.interp(g, self.lut.g_grid, self.lut.dg_mean[self.up]),
                        np.where(c < 0, np.interp(g, self.lut.g_grid, self.lut.dg_mean[self.down]), 0.0))
        return np.clip(g + step, self.lut.g_min, self.lut.g_max)

    def program(self, w_target: np.ndarray, rng: np.random.Generator, max_pulses: int = 8,
                iters: int = 20, tol_levels: float = 0.5) -> dict:
        """Write-and-verify towards ``w_target`` on the active cells: read (with read noise), fire the
        precise count for every cell off by more than ``tol_levels`` levels, repeat. Returns counts of
        verify reads, operations (cell writes) and pulses."""
        stats = {"verify_reads": 0, "operations": 0, "pulses": 0}
        tol = tol_levels * self.g_level * self.scale
        for _ in range(iters):
            w_read = self.read(rng)
            stats["verify_reads"] += int(self.mask.sum())
            off = self.mask & (np.abs(w_read - w_target) > tol)
            if not off.any():
                break
            n = np.where(off, self.cell_counts(np.where(off, w_target - w_read, 0.0), max_pulses), 0)
            if not n.any():
                break
            stats["operations"] += int(np.count_nonzero(n))
            stats["pulses"] += self.apply(n, rng)
        return stats

    def prune(self, sel: np.ndarray, rng: np.random.Generator, reset_pulses: int = 64) -> int:
        """Pruning: both cells of the selected pairs to G_min (depression pulses through the LUT), then
        the sparsity bit off. Returns the number of pulses fired."""
        sel = sel & self.mask
        counts = np.where(sel, -int(reset_pulses), 0)
        self._fire(np.stack([counts, counts]), rng)       # the same pulses as any write (LUT, or the model)
        self.mask[sel] = False
        return 2 * int(reset_pulses) * int(sel.sum())

    def regrow(self, sel: np.ndarray) -> None:
        """Regrowth: sparsity bit on; the pair restarts from G_min where pruning left it."""
        self.mask[sel] = True
