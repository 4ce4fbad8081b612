"""Figure of a training history (imports matplotlib through :func:`fefet_spice.plotting.new_figure`)."""
from __future__ import annotations

import numpy as np


def plot_history(result: dict, title: str = ""):
    """Left: test accuracy and sparsity per layer vs epoch; right: operations and pulses per epoch (log, epochs
    without any left out), with the VAU fit error when the rule has one."""
    from ..plotting import new_figure

    has_cost = any(r.get(k, 0) > 0 for r in result["epochs"] for k in ("operations", "pulses"))
    has_fit = any(r.get("fit_error_active") is not None for r in result["epochs"])
    fig, axes = new_figure(2 if has_cost or has_fit else 1)  # float updates fire no pulses: no empty panel
    ax0 = axes[0][0]
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
    if not (has_cost or has_fit):
        ax0.text(0.98, 0.02, "exact float updates: no array operations or pulses", ha="right", va="bottom",
                 fontsize=7, transform=ax0.transAxes)
        if title:
            fig.suptitle(title)
        return fig
    ax1 = axes[0][1]
    fa = [(r["epoch"], r["fit_error_active"], r["fit_error_all"]) for r in result["epochs"]
          if r.get("fit_error_active") is not None]
    # operations and pulses per epoch on a log axis: epochs with none are left out (a zero has no log),
    # and the VAU fit error gets its own axis only when the rule has one (no blank axes)
    cost_ax = ax1
    if fa:
        e, a, b = zip(*fa)
        ax1.plot(e, a, "b.-", label="VAU fit error, active cells")
        ax1.plot(e, b, "c.-", label="VAU fit error, all cells")
        ax1.set_ylabel("relative VAU fit error")
        ax1.legend(fontsize=7, loc="upper left")
        cost_ax = ax1.twinx()
    drawn = False
    for key, style, label in (("operations", "r.-", "array operations"), ("pulses", "m.-", "write pulses")):
        pts = [(r["epoch"], r[key]) for r in result["epochs"] if r.get(key, 0) > 0]
        if pts:
            x, y = zip(*pts)
            cost_ax.semilogy(x, y, style, lw=1, ms=3, label=label)
            drawn = True
    if drawn:
        cost_ax.set_ylabel("per epoch (epochs with none left out)")
        cost_ax.legend(fontsize=7, loc="upper right")
    ax1.set_xlabel("epoch")
    ax1.set_xlim(ax0.get_xlim())
    ax1.set_title("update cost" + (" and VAU fit error" if fa else ""))
    if title:
        fig.suptitle(title)
    return fig
