"""Matplotlib helpers (Agg canvas, no pyplot global state). Imported only where a plot is made."""
from __future__ import annotations

import numpy as np


def new_figure(ncols: int = 1, nrows: int = 1, size=(5.0, 3.8)):
    """A Figure with an Agg canvas and its axes array (always 2-D)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def plot_simulation(result, waveform_name: str, title: str):
    """Id-Vg loop (dc) or conductance vs pulse number (pulses) plus polarization, one figure."""
    fig, axes = new_figure(2)
    ax0, ax1 = axes[0]
    if waveform_name == "dc":
        for i in range(result.id.shape[0]):
            ax0.semilogy(result.vg, np.abs(result.id[i]) + 1e-18, lw=1)
            ax1.plot(result.vg, result.polarization[i] * 100, lw=1)
        ax0.set_xlabel("V_G [V]"); ax0.set_ylabel("|I_D| [A]"); ax0.set_title("I_D-V_G double sweep")
        ax1.set_xlabel("V_G [V]"); ax1.set_ylabel("P [µC/cm²]"); ax1.set_title("polarization")
    else:
        g = result.g_after_pulse * 1e6
        n = np.arange(1, g.shape[1] + 1)
        for i in range(g.shape[0]):
            ax0.plot(n, g[i], ".-", ms=3, lw=0.8)
        ax0.set_xlabel("pulse number"); ax0.set_ylabel("G at read [µS]"); ax0.set_title("conductance update")
        for i in range(result.polarization.shape[0]):
            ax1.plot(result.t * 1e6, result.polarization[i] * 100, lw=0.8)
        ax1.set_xlabel("t [µs]"); ax1.set_ylabel("P [µC/cm²]"); ax1.set_title("polarization")
    fig.suptitle(title)
    return fig
