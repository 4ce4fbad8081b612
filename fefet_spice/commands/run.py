"""``fefet-spice run``: the main job, every stage that exists, end to end, into one output folder."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "run"
HELP = "run the pipeline end to end on the reference data and write a summary to OUT"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", default="out", help="output folder (default out/)")
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from ..io.atomic import save_figure, write_json
    from ..plotting import plot_simulation
    from .simulate import simulate_to_dict

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"stages": {}}
    written = []
    for preset in ("weight", "sparsity"):
        for waveform in ("dc", "pulses"):
            ns = argparse.Namespace(preset=preset, params=None, waveform=waveform, vmax=None, rate=1.0,
                                    n_pulses=64, n_devices=4, vd=None, seed=args.seed, nominal=False)
            data, res, params = simulate_to_dict(ns)
            stem = out / f"model_{preset}_{waveform}"
            written.append(write_json(stem.with_suffix(".json"), data))
            written.append(save_figure(plot_simulation(res, waveform, f"{params.name}: {waveform}"),
                                       stem.with_suffix(".png")))
            summary["stages"][f"model_{preset}_{waveform}"] = data["summary"]
            print(f"model {preset:8s} {waveform:6s}: " + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in data["summary"].items()))
    written.append(write_json(out / "summary.json", summary))
    print("wrote:")
    for path in written:
        print(f"  {path}")
    return 0
