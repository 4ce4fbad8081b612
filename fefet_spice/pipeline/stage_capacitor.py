"""Capacitor stage of the main job (``run --qv FILE...``): fit the ferroelectric of an MFM capacitor to the
first Q-V trace, predict every other trace from its V(t) alone (cross-waveform), and report the sweeps of
the fitted trace predicted by refits without them."""
from __future__ import annotations

from pathlib import Path

from .. import api
from ..api._common import quantity
from ..progress import Progress
from .cache import Stage, StageResult, file_hash


def stage_capacitor(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Q-V fit of the first file, cross-waveform prediction of the others, figures."""
    files = [Path(f) for f in cfg["files"]]
    kw = {"q_unit": cfg.get("q_unit"), "t_unit": cfg.get("t_unit", "s"), "area": cfg.get("area")}
    out = folder / "capacitor_fit.json"
    with Progress(1, f"fit capacitor ({files[0].name})"):
        fit = api.fit_capacitor([files[0]], name="capacitor", max_nfev=cfg["max_nfev"], **kw)
    saved = fit.save(out)
    captions = {saved[1].name: f"{files[0].name}: measured charge (grey) and the fitted model (colour) against "
                               "time and voltage."}
    figures, quantities = [saved[1]], fit.quantities()
    summary = {"fit": {k: v["value"] for k, v in fit.document["parameters"].items()},
               "stderr": {k: v.get("stderr") for k, v in fit.document["parameters"].items()},
               "fit_nrmse": fit.document["metrics"]["qv"][0]["nrmse"]}
    sw = fit.document["metrics"].get("sweeps") or {}
    summary["heldout_sweeps"] = [{k: r[k] for k in ("v_from", "v_to", "heldout_nrmse")} for r in sw.get("sweeps", [])]
    q_flag = f" --q-unit {kw['q_unit']}" if kw["q_unit"] else ""
    commands = [f"fefet-spice fit --qv {files[0]}{q_flag} --max-nfev {cfg['max_nfev']} -o {out}"]
    cross = []
    if len(files) > 1:
        pred = api.predict_capacitor(fit, files[1:], **kw)
        j, png = folder / "capacitor_predict.json", folder / "capacitor_predict.png"
        pred.save(j, png)
        figures.append(png)
        captions[png.name] = ("Other waveforms of the same film predicted from their V(t) alone by the fit of "
                              f"{files[0].name}: data (grey), prediction (colour).")
        quantities += pred.quantities()
        cross = [{"file": m["file"], "nrmse": m["nrmse"]} for m in pred.metrics]
        commands.append(f"fefet-spice predict --params {out} --qv {' '.join(map(str, files[1:]))}{q_flag} "
                        f"--json {j} --plot {png}")
    summary["cross_waveform"] = cross
    if cross:
        key = {"label": "capacitor: worst cross-waveform prediction error", "value": 100 * max(c["nrmse"] for c in cross),
               "unit": "% of the Q range"}
    else:
        key = {"label": "capacitor: worst held-out sweep error", "value": 100 * (sw.get("heldout_nrmse_max") or 0.0),
               "unit": "% of the Q range"}
    quantities.append(quantity("capacitor fit wall time", fit.wall_time_s, "s"))
    summary.update(about="The ferroelectric of a metal-ferroelectric-metal capacitor fitted to a Q-V trace with its "
                         "domain history (Preisach density of up/down switching voltages and imprints, NLS kinetics); "
                         "stated uncertainties are at least the spread of refits without one sweep each, and the "
                         "other traces are predicted from V(t) alone.",
                   quantities=quantities, warnings=fit.warnings() + fit.notes, captions=captions, commands=commands,
                   inputs={str(f): file_hash(f) for f in files}, key_figure=key)
    return StageResult(summary=summary, figures=figures, files=[out])


def capacitor_stage(files, quick: bool, q_unit: str | None = None) -> Stage:
    """The stage object for ``run --qv``."""
    return Stage("capacitor", "Ferroelectric capacitor Q-V fit and cross-waveform prediction", stage_capacitor,
                 inputs=[Path(f) for f in files],
                 config={"files": [str(f) for f in files], "q_unit": q_unit, "max_nfev": 80 if quick else 200},
                 estimate_s=30 if quick else 60)
