"""Higher-fidelity synthetic measurement generator (the reference data set's source; not the fit model).

:func:`generate` writes ``<out>/<device>/*.csv`` (our CSV format), ``<out>/<device>/truth.json`` and
``<out>/holdout/<device>_train.csv`` for the weight and sparsity presets, deterministically from a seed.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .device import DiscreteDevice, GeneratorConfig, draw_device, run
from .experiments import execute, holdout_plan, plan
from .truth import truth_dict

__all__ = ["DiscreteDevice", "GeneratorConfig", "draw_device", "execute", "generate", "generate_device",
           "plan", "run", "truth_dict"]

DEVICES = ("weight", "sparsity")
DWELL = 0.05


def generate_device(kind: str, seed: int, cfg: GeneratorConfig | None = None):
    """Measurements (name -> Measurement), holdout measurement (or None) and truth dict of one device."""
    from .. import presets

    cfg = cfg or GeneratorConfig()
    params = presets.get(kind)
    root = np.random.SeedSequence([seed, DEVICES.index(kind)])
    draw_ss, run_ss, hold_ss = root.spawn(3)
    dev = draw_device(params, cfg, np.random.default_rng(draw_ss))
    rng = np.random.default_rng(run_ss)
    data = {e.name: execute(e, dev, cfg, rng) for e in plan(params, kind)}
    holdout = None
    if kind == "weight":
        entry = holdout_plan(params, np.random.default_rng(hold_ss))
        holdout = execute(entry, dev, cfg, rng)
    return data, holdout, truth_dict(dev, cfg, params, seed, DWELL)


def generate(out: str | os.PathLike, seed: int = 2025, devices=DEVICES, progress=None) -> list[Path]:
    """Write the reference data set under ``out``; returns the files written."""
    from ..io.atomic import write_json
    from ..readers.own_csv import write

    out = Path(out)
    written = []
    for kind in devices:
        data, holdout, truth = generate_device(kind, seed)
        for name, m in data.items():
            written.append(write(out / kind / f"{name}.csv", m))
        if holdout is not None:
            written.append(write(out / "holdout" / f"{kind}_train.csv", holdout))
        written.append(write_json(out / kind / "truth.json", truth))
        if progress is not None:
            progress.advance(note=kind)
    return written
