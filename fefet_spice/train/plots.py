"""Figure of a training history (imports matplotlib through :func:`fefet_spice.plotting.new_figure`)."""
from __future__ import annotations

import numpy as np


def plot_history(result: dict, title: str = ""):
    """Left: test accuracy and sparsity per layer vs epoch; right: VAU fit error and operations."""
    from ..plotting import new_figure

    fig, axes = new_figure(2)
    ax0, ax1 = axes[0]
    ep = [r["epoch"] for r in result["epochs"]]
    acc = [100 * r["accuracy"] for r in result["epochs"]]
    ax0.plot(ep, acc, "k.-", label="test accuracy")
    per = np.array([r["layer_sparsity"] for r in result["epochs"]]) * 100
    for i, name in enumerate(("conv1", "conv2", "fc")):
        ax0.plot(ep, per[:, i], "--", lw=1, label=f"sparsity {name}")
    ax0.plot(ep, [100 * r["sparsity"] for r in result["epochs"]], "-", lw=1.5, label="sparsity (all)")
    ax0.axvline(result["schedule"]["pretrain_epochs"] + 0.5, color="grey", lw=0.8, ls=":")
    ax0.set_xlabel("epoch"); ax0.set_ylabel("[%]"); ax0.set_ylim(0, 100)
    ax0.set_title(f"{result['rule']}: final {100 * result['final_accuracy']:.1f} % at "
                  f"{100 * result['final_sparsity']:.1f} % sparsity")
    ax0.legend(fontsize=7, loc="lower left")
    fa = [(r["epoch"], r["fit_error_active"], r["fit_error_all"]) for r in result["epochs"]
          if r["fit_error_active"] is not None]
    if fa:
        e, a, b = zip(*fa)
        ax1.plot(e, a, "b.-", label="VAU fit error, active cells")
        ax1.plot(e, b, "c.-", label="VAU fit error, all cells")
        ax1.set_ylabel("relative fit error")
        ax1.legend(fontsize=7, loc="upper left")
    ax2 = ax1.twinx()
    ax2.semilogy(ep, [max(r["operations"], 1) for r in result["epochs"]], "r-", lw=1, label="operations")
    ax2.semilogy(ep, [max(r["pulses"], 1) for r in result["epochs"]], "m-", lw=1, label="cell pulses")
    ax2.set_ylabel("per epoch"); ax2.legend(fontsize=7, loc="upper right")
    ax1.set_xlabel("epoch"); ax1.set_title("update cost and VAU fit")
    if title:
        fig.suptitle(title)
    return fig
