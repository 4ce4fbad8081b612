"""Main-job stage: programming schemes x pulse widths in ngspice through the cost model
(:func:`fefet_spice.api.schemes` on the fitted FeFETs, as ``fefet-spice schemes`` does)."""
from __future__ import annotations

from pathlib import Path

from ..api._common import quantity
from ..units import si
from .cache import Stage, StageResult


def _device(upstream: dict, dev: str) -> str:
    fit = upstream.get("fit")
    for f in (fit.files if fit is not None else []):
        if Path(f).name == f"{dev}_fit.json":
            return str(f)
    return dev  # a preset name


def stage_schemes(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Cell-level scheme sweep (law amplitudes, few schemes and widths: a quick what-if for the report)."""
    from .. import api
    from ..commands.schemes import parse_widths
    from ..io.params_file import resolve_params

    weight, sparsity = _device(upstream, "weight"), _device(upstream, "sparsity")
    res = api.schemes(resolve_params(weight), resolve_params(sparsity), cfg["schemes"].split(","),
                      parse_widths(cfg["widths"]), amplitudes=cfg["amplitudes"], n_train=cfg["n_train"],
                      source=weight)
    res.save(folder)
    doc = res.document
    best = res.best()
    summary = {"answer": doc["answer"], "points": [
        {k: q[k] for k in ("scheme", "width_s", "amplitude_v", "write_energy_per_pulse_j", "half_select_gate_energy_j",
                           "half_select_channel_energy_j", "disturb_levels", "levels", "gain_energy_vs_dense_vgg8",
                           "gain_energy_vs_element_vgg8", "meets_budget")} for q in doc["points"]]}
    summary["key_figure"] = {"label": "best index-free vs element-sparse energy gain on VGG-8 (ngspice schemes)",
                             "value": f"{best['gain_energy_vs_element_vgg8']:.2f}x",
                             "unit": f"{best['scheme']} at {si(best['width_s'], 's')} (target 5x)"}
    summary.update(
        about="Inhibit schemes and pulse widths measured in ngspice on the fitted cell (amplitudes from the domain "
              "law: the drive that gives the reference update per pulse at each width), then carried through the "
              "cost model of VGG-8: write and half-select energies, levels, disturb of half-selected and masked "
              "cells after a training run, and the index-free energy gain. A quick sweep (two schemes, two widths); "
              "the full one is the command below without --schemes/--widths.",
        tables=[_points_table(summary["points"])], captions={"schemes.png": _CAPTION},
        quantities=[quantity("best index-free energy gain over element-sparse (VGG-8)",
                             best["gain_energy_vs_element_vgg8"], "×",
                             note=f"{best['scheme']} at {si(best['width_s'], 's')}; target 5 ×")],
        commands=[f"fefet-spice schemes --params {weight} --sparsity {sparsity} --schemes {cfg['schemes']} "
                  f"--widths {cfg['widths']} --amplitudes {cfg['amplitudes']} --n-train {cfg['n_train']} -o {folder}"])
    from .compare import half_select_energies, half_select_reason

    e, pt = half_select_energies(upstream_netlists(upstream), summary)
    if e is not None and pt is not None:
        summary["notes"] = [half_select_reason(upstream_netlists(upstream), pt)]
    return StageResult(summary=summary, figures=[folder / "schemes.png"],
                       files=[folder / "schemes.json", folder / "schemes.txt"])


_CAPTION = ("Left: index-free energy gain on VGG-8 against pulse width, over dense (solid) and over element-sparse "
            "(dashed); open markers do not write 16 levels or break the disturb budget; dotted: the 5 × target. "
            "Right: disturb of half-selected and masked cells after a VGG-8 training run, in levels (dotted: "
            "the budget). A third panel, when present, shows the device change that would reach the target.")


def upstream_netlists(upstream: dict) -> dict | None:
    """The netlists stage's energies (its summary), when that stage ran before this one."""
    rec = upstream.get("netlists")
    return getattr(rec, "summary", None) if rec is not None else None


def _points_table(points: list[dict]) -> dict:
    head = ["scheme", "pulse width", "amplitude", "write energy per pulse", "half-select energy (gate + channel)",
            "levels", "disturb", "index-free energy gain over element-sparse"]
    rows = []
    for p in points:
        gain = p["gain_energy_vs_element_vgg8"]
        rows.append([p["scheme"], si(p["width_s"], "s"), si(p["amplitude_v"], "V"),
                     si(p["write_energy_per_pulse_j"], "J"),
                     f"{si(p['half_select_gate_energy_j'], 'J')} + {si(p['half_select_channel_energy_j'], 'J')}",
                     si(p["levels"], "levels"), si(p["disturb_levels"], "levels"),
                     f"{gain:.3g} ×" + ("" if gain >= 1 else f" (index-free costs {1 / gain:.3g} × more)")])
    return {"caption": "Programming schemes: one row per scheme and pulse width (ngspice, VGG-8 cost model)",
            "head": head, "rows": rows}


def schemes_stage(quick: bool) -> Stage:
    """The stage with its configuration (the same quick one for ``--quick`` and ``make demo``: 2 schemes x
    2 widths, about 10-20 s; the full sweep is ``fefet-spice schemes``)."""
    return Stage("schemes", "Programming schemes in ngspice (energy, disturb, index-free gain)", stage_schemes,
                 after=["fit", "netlists"], config={"schemes": "paper,dil_follow", "widths": "100n,1u", "amplitudes": "law",
                                        "n_train": 24}, estimate_s=15)
