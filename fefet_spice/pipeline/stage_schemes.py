"""Main-job stage: programming schemes x pulse widths in ngspice through the cost model
(:func:`fefet_spice.api.schemes` on the fitted FeFETs, as ``fefet-spice schemes`` does)."""
from __future__ import annotations

from pathlib import Path

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
                             "unit": f"{best['scheme']} at {best['width_s']:.0e} s (target 5x)"}
    return StageResult(summary=summary, figures=[folder / "schemes.png"],
                       files=[folder / "schemes.json", folder / "schemes.txt"])


def schemes_stage(quick: bool) -> Stage:
    """The stage with its configuration (the same quick one for ``--quick`` and ``make demo``: 2 schemes x
    2 widths, about 10-20 s; the full sweep is ``fefet-spice schemes``)."""
    return Stage("schemes", "Programming schemes in ngspice (energy, disturb, index-free gain)", stage_schemes,
                 after=["fit"], config={"schemes": "paper,dil_follow", "widths": "100n,1u", "amplitudes": "law",
                                        "n_train": 24}, estimate_s=15)
