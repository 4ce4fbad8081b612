"""Figure of the cost report: normalized costs, breakdown, index-free gain against sparsity."""
from __future__ import annotations

import numpy as np

from .model import DESIGNS, PARTS

_COLORS = {"index": "tab:red", "transfer": "tab:blue", "array": "tab:green", "operator": "tab:orange"}


def plot_report(rep: dict, title: str | None = None):
    """Three panels: energy/latency relative to dense, energy breakdown, gain vs sparsity."""
    from ..plotting import new_figure

    fig, axes = new_figure(3, size=(5.2, 4.0))
    ax0, ax1, ax2 = axes[0]
    x = np.arange(len(DESIGNS))
    e = [rep["designs"][d]["energy_rel_dense"] for d in DESIGNS]
    t = [rep["designs"][d]["latency_rel_dense"] for d in DESIGNS]
    ax0.bar(x - 0.2, e, 0.4, label="energy")
    ax0.bar(x + 0.2, t, 0.4, label="latency")
    paper = rep["headline_ratios"]["paper"]
    el_t, el_e = paper["element_vs_dense"]["latency"], paper["element_vs_dense"]["energy"]
    ref = {"element": (el_e, el_t),
           "index_free": (1 / paper["index_free_vs_dense"]["energy"], 1 / paper["index_free_vs_dense"]["latency"]),
           "index_free_diff": (el_e / paper["index_free_diff_vs_element"]["energy"],
                               el_t / paper["index_free_diff_vs_element"]["latency"])}
    for i, d in enumerate(DESIGNS):
        if d in ref and rep["network"] == "vgg8":   # the paper's figures are for VGG-8 only
            ax0.plot([i - 0.2, i + 0.2], ref[d], "k_", ms=14, mew=2, label="paper" if d == "element" else None)
    ax0.set_yscale("log")
    ax0.axhline(1.0, color="k", lw=0.8)
    ax0.set_xticks(x, [d.replace("index_free", "if") for d in DESIGNS], rotation=30)
    ax0.set_ylabel("relative to dense")
    ax0.set_title("weight-update cost")
    ax0.legend(fontsize=8)

    bottom = np.zeros(len(DESIGNS))
    for p in PARTS:
        vals = np.array([rep["breakdown"][d]["energy_parts_j"][p] for d in DESIGNS])
        vals = vals / rep["designs"]["dense"]["energy_j"]
        ax1.bar(x, vals, 0.6, bottom=bottom, color=_COLORS[p], label=p)
        bottom += vals
    ax1.set_ylim(0, 1.06 * bottom.max())
    ax1.set_xticks(x, [d.replace("index_free", "if") for d in DESIGNS], rotation=30)
    ax1.set_ylabel("energy / dense energy")
    ax1.set_title("energy breakdown (static included)")
    ax1.legend(fontsize=8)

    sw = rep["sweep_uniform"]
    s = 100 * np.asarray(sw["sparsity"])
    ax2.semilogy(s, sw["energy_gain_vs_dense"], "o-", ms=3, label="energy, vs dense")
    ax2.semilogy(s, sw["latency_gain_vs_dense"], "s-", ms=3, label="latency, vs dense")
    ax2.semilogy(s, sw["energy_gain_vs_element"], "o--", ms=3, label="energy, vs element")
    ax2.semilogy(s, sw["latency_gain_vs_element"], "s--", ms=3, label="latency, vs element")
    ax2.axhline(1.0, color="k", lw=0.8)
    ax2.axvline(100 * rep["overall_sparsity"], color="gray", lw=0.8, ls=":")
    ax2.set_xlabel("sparsity (uniform) [%]")
    ax2.set_ylabel("index-free gain [x]")
    ax2.set_title("index-free gain vs sparsity")
    ax2.legend(fontsize=7)
    fig.suptitle(title or f"{rep['network']}: weight-update stage")
    return fig
