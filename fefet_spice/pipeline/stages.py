"""Stage functions of the main job. Each takes (folder, config, upstream records) -> StageResult."""
from __future__ import annotations

import argparse
from pathlib import Path

from .cache import StageResult


def stage_model(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """The compact model on both presets: Id-Vg loops and identical-pulse conductance updates."""
    from ..commands.simulate import simulate_to_dict
    from ..io.atomic import save_figure, write_json
    from ..plotting import plot_simulation

    summary, figures, files = {}, [], []
    for preset in ("weight", "sparsity"):
        for waveform in ("dc", "pulses"):
            ns = argparse.Namespace(preset=preset, params=None, waveform=waveform, vmax=None, rate=1.0,
                                    n_pulses=cfg["n_pulses"], n_devices=cfg["n_devices"], vd=None,
                                    seed=cfg["seed"], nominal=False)
            data, res, params = simulate_to_dict(ns)
            stem = folder / f"{preset}_{waveform}"
            files.append(write_json(stem.with_suffix(".json"), data))
            figures.append(save_figure(plot_simulation(res, waveform, f"{params.name}: {waveform}"),
                                       stem.with_suffix(".png")))
            summary[f"{preset}_{waveform}"] = data["summary"]
    summary["key_figure"] = {"label": "weight FeFET memory window (DC)",
                             "value": summary["weight_dc"]["memory_window_v"], "unit": "V"}
    return StageResult(summary=summary, figures=figures, files=files)
