"""The synapse LUT (pure numpy): state-dependent conductance change per pulse, with its spread.

For each pulse kind (polarity, amplitude, width) the LUT holds, on a uniform conductance grid, the
mean, standard deviation and quantiles of the change ΔG caused by one pulse, plus example G-vs-pulse
trajectories. It is what the array trainer consumes and what the exporters translate
(``../shared/SPEC.md`` section 6).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

DEFAULT_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


@dataclass(frozen=True)
class PulseKind:
    """One kind of programming pulse."""

    polarity: int
    """+1 potentiation (G up), -1 depression (G down)."""
    amplitude: float
    """Pulse amplitude [V] (signed)."""
    width: float
    """Pulse width [s]."""

    @property
    def label(self) -> str:
        return f"{'up' if self.polarity > 0 else 'down'}_{self.amplitude:+.3f}V_{self.width:.3e}s"


@dataclass(frozen=True)
class SynapseLUT:
    """Conductance-update lookup table of one device type (all conductances in siemens)."""

    g_grid: np.ndarray
    """Uniform conductance grid, shape (n_g,) [S]."""
    g_min: float
    """Lowest conductance reached (fully depressed) [S]."""
    g_max: float
    """Highest conductance reached (fully potentiated) [S]."""
    kinds: tuple[PulseKind, ...]
    """Pulse kinds, one per first axis of the tables."""
    dg_mean: np.ndarray
    """Mean ΔG per pulse, shape (n_kinds, n_g) [S]."""
    dg_std: np.ndarray
    """Std of ΔG per pulse (cycle-to-cycle and device-to-device), shape (n_kinds, n_g) [S]."""
    quantile_levels: np.ndarray
    """Probabilities of the stored quantiles, shape (n_q,)."""
    dg_quantiles: np.ndarray
    """Quantiles of ΔG per pulse, shape (n_kinds, n_q, n_g) [S]."""
    trajectories: np.ndarray
    """G vs pulse number from the reset state, shape (n_kinds, n_traj, n_pulses + 1) [S]."""
    read_noise: float = 0.0
    """Std of a conductance read [S]."""
    meta: dict = field(default_factory=dict)
    """Provenance and figures of merit (params hash, netlist, simulator, seed, levels, masked_ratio...)."""

    def kind_index(self, polarity: int) -> int:
        """Index of the first pulse kind of the given polarity."""
        for i, k in enumerate(self.kinds):
            if k.polarity == polarity:
                return i
        raise KeyError(f"the LUT has no pulse kind of polarity {polarity:+d}")

    def mean_step(self, g, kind: int) -> np.ndarray:
        """Mean ΔG [S] of one pulse of ``kind`` at conductance ``g`` (linear interpolation)."""
        return np.interp(g, self.g_grid, self.dg_mean[kind])

    def std_step(self, g, kind: int) -> np.ndarray:
        return np.interp(g, self.g_grid, self.dg_std[kind])


def apply_pulses(lut: SynapseLUT, g: np.ndarray, counts: np.ndarray, rng: np.random.Generator,
                 noise: bool = True, up: int | None = None, down: int | None = None) -> np.ndarray:
    """Apply ``counts`` pulses per cell (sign = polarity) through the LUT, one pulse at a time.

    Each pulse adds ``mean(G) + std(G) * xi`` and the result is clipped to [g_min, g_max]. Vectorized
    over cells; the loop runs over the largest count only. Returns the new conductances [S].
    """
    g = np.array(g, dtype=float, copy=True)
    counts = np.asarray(counts).astype(np.int64)
    up = lut.kind_index(+1) if up is None else up
    down = lut.kind_index(-1) if down is None else down
    n_max = int(np.abs(counts).max(initial=0))
    for k in range(n_max):
        for sign, kind in ((1, up), (-1, down)):
            sel = np.flatnonzero(sign * counts > k)
            if sel.size == 0:
                continue
            gs = g.flat[sel]
            step = np.interp(gs, lut.g_grid, lut.dg_mean[kind])
            if noise:
                step = step + np.interp(gs, lut.g_grid, lut.dg_std[kind]) * rng.standard_normal(sel.size)
            g.flat[sel] = np.clip(gs + step, lut.g_min, lut.g_max)
    return g


def _bin_stats(g0, dg, grid, qs):
    """Mean, std and quantiles of dg binned on g0 over ``grid`` (bin centres); empty bins filled."""
    n_g = len(grid)
    width = grid[1] - grid[0]
    idx = np.clip(np.rint((g0 - grid[0]) / width).astype(int), 0, n_g - 1)
    mean = np.full(n_g, np.nan)
    std = np.full(n_g, np.nan)
    quant = np.full((len(qs), n_g), np.nan)
    for b in np.unique(idx):
        vals = dg[idx == b]
        mean[b], std[b] = vals.mean(), vals.std()
        quant[:, b] = np.quantile(vals, qs)
    filled = np.flatnonzero(~np.isnan(mean))
    fill = lambda a: np.interp(np.arange(n_g), filled, a[filled])  # noqa: E731  nearest/linear fill
    return fill(mean), fill(std), np.array([fill(q) for q in quant])


def from_trajectories(trajectories: dict[PulseKind, np.ndarray], n_g: int = 64, read_noise: float = 0.0,
                      quantile_levels=DEFAULT_QUANTILES, meta: dict | None = None) -> SynapseLUT:
    """Build a LUT from G-vs-pulse trajectories, one array (n_traj, n_pulses + 1) [S] per pulse kind.

    Every consecutive pair (G_k, G_k+1) is one sample of ΔG at G_k; samples are binned on a uniform grid
    spanning the lowest to the highest conductance seen.
    """
    kinds = tuple(trajectories)
    trajs = [np.asarray(trajectories[k], dtype=float) for k in kinds]
    g_min = float(min(t.min() for t in trajs))
    g_max = float(max(t.max() for t in trajs))
    grid = np.linspace(g_min, g_max, n_g)
    qs = np.asarray(quantile_levels, dtype=float)
    stats = [_bin_stats(t[:, :-1].ravel(), np.diff(t, axis=1).ravel(), grid, qs) for t in trajs]
    n_pulses = max(t.shape[1] for t in trajs)
    n_traj = max(t.shape[0] for t in trajs)
    padded = np.full((len(kinds), n_traj, n_pulses), np.nan)
    for i, t in enumerate(trajs):
        padded[i, : t.shape[0], : t.shape[1]] = t
    return SynapseLUT(g_grid=grid, g_min=g_min, g_max=g_max, kinds=kinds,
                      dg_mean=np.array([s[0] for s in stats]), dg_std=np.array([s[1] for s in stats]),
                      quantile_levels=qs, dg_quantiles=np.array([s[2] for s in stats]),
                      trajectories=padded, read_noise=float(read_noise), meta=dict(meta or {}))


def traffic_source(lut: SynapseLUT) -> dict | None:
    """``lut.meta["dg_source"]`` when its ΔG statistics come from training-like traffic
    (:func:`with_step_samples`, ``characterize --traffic``), else None (monotone sweeps)."""
    src = lut.meta.get("dg_source") or {}
    return src if src.get("from") == "traffic" else None


def with_step_samples(lut: SynapseLUT, samples: dict[PulseKind, tuple[np.ndarray, np.ndarray]],
                      min_count: int = 8) -> tuple[SynapseLUT, dict]:
    """``lut`` with the ΔG statistics of the given kinds taken from ``samples`` ``{kind: (G before [S],
    ΔG [S])}`` (e.g. pulses of mixed sign, as training fires them) instead of from its monotone
    trajectories, bin by bin on its grid; a bin with fewer than ``min_count`` samples keeps the
    trajectories' values. Returns the new LUT and ``{kind label: bins taken from the samples}``."""
    mean, std, quant = lut.dg_mean.copy(), lut.dg_std.copy(), lut.dg_quantiles.copy()
    width = lut.g_grid[1] - lut.g_grid[0]
    taken = {}
    for kind, (g0, dg) in samples.items():
        if kind not in lut.kinds:
            raise ValueError(f"step samples for {kind.label}: the LUT has no such pulse kind "
                             f"({', '.join(k.label for k in lut.kinds)})")
        i = lut.kinds.index(kind)
        g0, dg = np.asarray(g0, float).ravel(), np.asarray(dg, float).ravel()
        if g0.size == 0:  # (a kind the samples never fired: its sweep values stay)
            taken[kind.label] = 0
            continue
        idx = np.clip(np.rint((g0 - lut.g_grid[0]) / width).astype(int), 0, len(lut.g_grid) - 1)
        count = np.bincount(idx, minlength=len(lut.g_grid))
        m, sd, q = _bin_stats(g0, dg, lut.g_grid, lut.quantile_levels)
        use = count >= min_count
        mean[i, use], std[i, use], quant[i][:, use] = m[use], sd[use], q[:, use]
        taken[kind.label] = int(use.sum())
    return replace(lut, dg_mean=mean, dg_std=std, dg_quantiles=quant, meta=dict(lut.meta)), taken


def neurosim_curve(p, a: float, g_min: float, g_max: float, p_max: float):
    """NeuroSim LTP curve ``G = B (1 - exp(-P/A)) + G_min``, ``B = (G_max - G_min)/(1 - exp(-P_max/A))``."""
    b = (g_max - g_min) / (1.0 - np.exp(-p_max / a))
    return b * (1.0 - np.exp(-np.asarray(p, dtype=float) / a)) + g_min


def from_neurosim(g_min: float, g_max: float, a_ltp: float, a_ltd: float, p_max: int,
                  sigma_c2c: float = 0.0, read_noise: float = 0.0, n_traj: int = 16,
                  rng: np.random.Generator | int | None = 0, n_g: int = 64) -> SynapseLUT:
    """A LUT from the NeuroSim exponential form (LTP and mirrored LTD), optional cycle-to-cycle noise
    ``sigma_c2c`` relative to (G_max - G_min) per pulse. Useful as a stand-in and in tests."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    p = np.arange(p_max + 1)
    ltp = neurosim_curve(p, a_ltp, g_min, g_max, p_max)
    ltd = g_max + g_min - neurosim_curve(p, a_ltd, g_min, g_max, p_max)
    span = g_max - g_min

    def noisy(curve):
        steps = np.diff(curve)[None, :] + sigma_c2c * span * rng.standard_normal((n_traj, p_max))
        return np.clip(curve[0] + np.concatenate([np.zeros((n_traj, 1)), np.cumsum(steps, 1)], 1), g_min, g_max)

    trajs = {PulseKind(+1, 1.0, 1e-6): noisy(ltp), PulseKind(-1, -1.0, 1e-6): noisy(ltd)}
    return from_trajectories(trajs, n_g=n_g, read_noise=read_noise,
                             meta={"source": "neurosim-form", "a_ltp": a_ltp, "a_ltd": a_ltd, "p_max": p_max})


def mean_branch(lut: SynapseLUT, polarity: int) -> np.ndarray:
    """Mean G-vs-pulse trajectory [S] of the first pulse kind of ``polarity`` (NaN padding dropped)."""
    traj = lut.trajectories[lut.kind_index(polarity)]
    rows = traj[np.all(np.isfinite(traj[:, :1]), axis=1)]
    if rows.size == 0:
        return np.zeros(0)
    n = int(np.min(np.sum(np.isfinite(rows), axis=1)))
    return rows[:, :n].mean(axis=0)


def branch_levels(lut: SynapseLUT, step: float | None = None) -> dict:
    """Distinguishable levels per polarity along the mean trajectories (``model.metrics``):
    ``{"up": int, "down": int, "step_s": float}``; ``step`` [S] defaults to 6 sigma of read noise."""
    from ..model.metrics import default_level_step, distinguishable_levels

    step = default_level_step(lut.read_noise, lut.g_max - lut.g_min) if step is None else float(step)
    out = {"step_s": float(step)}
    for name, pol in (("up", +1), ("down", -1)):
        try:
            out[name] = int(distinguishable_levels(mean_branch(lut, pol), step))
        except KeyError:
            out[name] = 0
    return out
