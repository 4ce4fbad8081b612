"""Table, one-line answer and figure of a ``fefet-schemes/1`` document (plotting: matplotlib Agg)."""
from __future__ import annotations


def _valid(p: dict) -> bool:
    return bool(p["meets_budget"] and p["writes"])


def answer(doc: dict) -> str:
    """One sentence: the scheme and pulse regime that reaches the target gain, or why none does."""
    target = doc["target_gain"]
    pts = doc["points"]
    wins = [p for p in pts if _valid(p) and p["gain_energy_vs_element_vgg8"] >= target]
    quiet = sorted({p["scheme"] for p in pts if p["half_select_channel_energy_j"] < 0.01 * p["write_energy_per_pulse_j"]})
    tail = f" Half-select channel energy < 1 % of the write energy: {', '.join(quiet) or 'no scheme'}."
    if wins:
        b = max(wins, key=lambda p: p["gain_energy_vs_element_vgg8"])
        return (f"YES: {b['scheme']} at {b['width_s']:.0e} s ({b['amplitude_v']:.2f} V drive) gives index-free "
                f"{b['gain_energy_vs_element_vgg8']:.1f}x lower update energy than element-sparse on VGG-8 "
                f"({b['gain_energy_vs_dense_vgg8']:.1f}x vs dense), disturb {b['disturb_levels']:.2g} levels." + tail)
    ok = [p for p in pts if _valid(p)]
    if not ok:
        return (f"NO point in the explored space writes {doc['levels_used']} levels within the disturb budget "
                f"of {doc['budget_levels']:g} level(s)." + tail)
    b = max(ok, key=lambda p: p["gain_energy_vs_element_vgg8"])
    f, fa = b["required_write_scale"], b["required_area_scale"]
    if f == 0:
        need = ("no reduction of the cell's write energies suffices at this width (static power x the write "
                "latency and the transfers cap the gain)")
    elif fa > 0:
        need = (f"the ferroelectric capacitor area (gate charging and switched charge) would have to shrink "
                f"{1 / fa:.2g}x, e.g. {doc['ferro_area_m2'] * 1e12:g} um^2 -> {doc['ferro_area_m2'] * fa * 1e12:.2g} um^2 "
                f"(all write energies, conduction included: {1 / f:.2g}x)")
    else:
        need = (f"every per-cell write energy would have to fall {1 / f:.2g}x; shrinking the ferroelectric area "
                f"alone cannot do it (the channel conduction is left)")
    return (f"NO point in the explored space reaches {target:g}x: the best that writes {doc['levels_used']} levels "
            f"within the disturb budget is {b['scheme']} at {b['width_s']:.0e} s with "
            f"{b['gain_energy_vs_element_vgg8']:.2f}x vs element-sparse on VGG-8; {need}." + tail)


def format_table(doc: dict) -> str:
    head = (f"{'scheme':14s} {'width':>8s} {'D [V]':>6s} {'BL [V]':>6s} {'write [J]':>9s} {'hs gate':>9s} "
            f"{'hs chan':>9s} {'masked':>9s} {'lvls':>4s} {'dist hs':>8s} {'dist msk':>8s} {'x dense':>7s} "
            f"{'x elem':>7s} {'x el ms':>7s} {'budget':>6s} {'need':>7s}")
    rows = [head, "-" * len(head)]
    for p in doc["points"]:
        f = p["required_area_scale"]
        need = "-" if f >= 1 else ("never" if f == 0 else f"/{1 / f:.0f}")
        rows.append(f"{p['scheme']:14s} {p['width_s']:8.1e} {p['amplitude_v']:6.2f} {p['bl_v']:6.2f} "
                    f"{p['write_energy_per_pulse_j']:9.2e} {p['half_select_gate_energy_j']:9.2e} "
                    f"{p['half_select_channel_energy_j']:9.2e} {p['masked_sel_energy_j']:9.2e} {p['levels']:4d} "
                    f"{p['half_disturb_levels']:8.1e} {p['masked_disturb_levels']:8.1e} "
                    f"{p['gain_energy_vs_dense_vgg8']:7.2f} {p['gain_energy_vs_element_vgg8']:7.2f} "
                    f"{p['gain_energy_vs_element_msnet']:7.2f} {'yes' if p['meets_budget'] else 'no':>6s} {need:>7s}")
    rows.append("write: full-select energy per pulse; hs: half-selected cell per pulse (gate / channel); masked: pruned "
                "cell in the selected column; dist: disturb after a VGG-8 training run [levels]; x dense / x elem: "
                "index-free energy gain on VGG-8 (x el ms: MSNet); need: ferroelectric-area reduction for the target gain (never: impossible by area)")
    return "\n".join(rows)


def plot_schemes(doc: dict):
    """Two or three panels: index-free energy gain vs pulse width (solid: vs dense, dashed: vs element-sparse; open
    markers: the point does not write 16 levels or breaks the budget) and disturb in levels."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # the third panel (device change needed) only when some reduction reaches the target: no empty axes
    finite = any(0 < p["required_area_scale"] or 0 < p["required_write_scale"] for p in doc["points"])
    if finite:
        fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.4))
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.4))
        ax3 = None
    names = list(dict.fromkeys(p["scheme"] for p in doc["points"]))
    for k, name in enumerate(names):
        pts = sorted((p for p in doc["points"] if p["scheme"] == name), key=lambda p: p["width_s"])
        c = f"C{k}"
        w = [p["width_s"] for p in pts]
        ax1.plot(w, [p["gain_energy_vs_dense_vgg8"] for p in pts], "-", color=c, label=f"{name} vs dense")
        ax1.plot(w, [p["gain_energy_vs_element_vgg8"] for p in pts], "--", color=c, label=f"{name} vs element")
        for p in pts:
            face = c if _valid(p) else "none"
            for key in ("gain_energy_vs_dense_vgg8", "gain_energy_vs_element_vgg8"):
                ax1.plot(p["width_s"], p[key], "o", color=c, mfc=face)
        need = [1 / p["required_area_scale"] if p["required_area_scale"] > 0 else np.nan for p in pts]
        need_all = [1 / p["required_write_scale"] if p["required_write_scale"] > 0 else np.nan for p in pts]
        if ax3 is not None and np.isfinite(need).any():
            ax3.plot(w, need, "-o", color=c, label=f"{name}: FE area")
        if ax3 is not None and np.isfinite(need_all).any():
            ax3.plot(w, need_all, "--s", color=c, label=f"{name}: all write energies")  # markers: one point shows
        floor = 1e-6
        ax2.plot(w, [max(p["half_disturb_levels"], floor) for p in pts], "-o", color=c, label=f"{name} half-selected")
        ax2.plot(w, [max(p["masked_disturb_levels"], floor) for p in pts], ":s", color=c, label=f"{name} masked")
    ax1.axhline(doc["target_gain"], color="k", lw=0.8, ls=":")
    ax1.axhline(1.0, color="grey", lw=0.6)
    ax1.set(xscale="log", yscale="log", xlabel="pulse width [s]", ylabel="index-free energy gain on VGG-8 [x]",
            title="update energy: index-free vs dense (-) / element-sparse (--)")
    ax1.legend(fontsize=6, ncol=2)
    ax2.axhline(doc["budget_levels"], color="k", lw=0.8, ls=":")
    ax2.set(xscale="log", yscale="log", xlabel="pulse width [s]", ylabel="disturb after a VGG-8 run [levels]",
            title="disturb (floored at 1e-6; open markers left: not valid)")
    ax2.legend(fontsize=6)
    if ax3 is not None:
        ax3.axhline(1.0, color="grey", lw=0.6)
        ws = [p["width_s"] for p in doc["points"]]
        ax3.set_xlim(0.5 * min(ws), 2.0 * max(ws))
        ax3.set(xscale="log", yscale="log", xlabel="pulse width [s]",
                ylabel=f"reduction needed for {doc['target_gain']:g}x vs element [x]",
                title="device change needed (missing: impossible at that width)")
        ax3.legend(fontsize=6)
    else:
        fig.text(0.5, 0.005, f"No device reduction reaches {doc['target_gain']:g}x over element-sparse at these "
                 "widths (so no third panel).", ha="center", va="bottom", fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1) if ax3 is None else (0, 0, 1, 1))
    return fig
