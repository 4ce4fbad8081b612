"""Figures of a characterization: G vs pulse number, and ΔG(G) mean with quantile bands."""
from __future__ import annotations

import numpy as np


def _fmt(x, spec: str) -> str:
    return 'n/a' if x is None else format(x, spec)


def plot_trajectories(res, title: str):
    """G vs pulse number (every device thin, mean thick) for each pulse pair, plus masked/disturb."""
    from ..plotting import new_figure

    fig, axes = new_figure(2)
    ax, ax2 = axes[0]
    n_pairs = res.traj.shape[1]
    x = np.arange(res.traj.shape[2])
    for j in range(n_pairs):
        k = res.lut.kinds[2 * j]
        for dev in res.traj[:, j]:
            ax.plot(x, dev * 1e6, lw=0.4, alpha=0.3, color=f"C{j}")
        ax.plot(x, res.traj[:, j].mean(0) * 1e6, lw=2, color=f"C{j}", label=f"±{k.amplitude:.2f} V, {k.width * 1e6:.3g} µs")
    ax.axvline(res.lut.meta["n_pulses"], color="k", lw=0.6, ls=":")
    ax.set_xlabel("pulse number (up, then down)"); ax.set_ylabel("G [µS]")
    ax.set_title(f"{res.traj.shape[0]} devices"); ax.legend(fontsize=8)
    xp = np.arange(res.masked.shape[1])
    m = (res.masked.shape[1] - 1) // 2
    start = res.lut.meta["n_pulses"] // 2
    ref = res.traj[:, 0, start: start + m + 1]
    ax2.plot(np.arange(ref.shape[1]), (ref - ref[:, :1]).mean(0) * 1e6, "k--", lw=1, label="unmasked (up)")
    ax2.plot(xp, (res.masked - res.masked[:, :1]).mean(0) * 1e6, "o-", ms=3,
             label=f"masked (ratio {_fmt(res.lut.meta['masked_ratio'], '.2g')})")
    ax2.plot(xp, (res.disturb - res.disturb[:, :1]).mean(0) * 1e6, "s-", ms=3,
             label=f"half-selected (ratio {_fmt(res.lut.meta['disturb_ratio'], '.2g')})")
    ax2.set_xlabel("probe pulse number (up, then down)"); ax2.set_ylabel("G - G_start [µS]")
    ax2.set_title("sparsity FeFET off / inhibited cell"); ax2.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def plot_dg_bands(lut, title: str):
    """Mean ΔG per pulse vs G with the 5-95 % and 25-75 % quantile bands, one panel per pulse kind."""
    from ..plotting import new_figure

    fig, axes = new_figure(min(len(lut.kinds), 2), (len(lut.kinds) + 1) // 2)
    g = lut.g_grid * 1e6
    qs = np.asarray(lut.quantile_levels)

    def q(k, level):
        return np.array([np.interp(level, qs, lut.dg_quantiles[k][:, j]) for j in range(g.size)]) * 1e9

    for k, (kind, ax) in enumerate(zip(lut.kinds, axes.ravel())):
        ax.fill_between(g, q(k, 0.05), q(k, 0.95), alpha=0.25, color="C0", label="5-95 %")
        ax.fill_between(g, q(k, 0.25), q(k, 0.75), alpha=0.4, color="C0", label="25-75 %")
        ax.plot(g, lut.dg_mean[k] * 1e9, color="C3", lw=1.5, label="mean")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("G [µS]"); ax.set_ylabel("ΔG per pulse [nS]")
        ax.set_title(f"{'up' if kind.polarity > 0 else 'down'} {kind.amplitude:+.2f} V, {kind.width * 1e6:.3g} µs")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig
