"""Stage functions of the main job: each runs the user-facing subcommand for its stage into the stage
folder, then reads back the JSON that command wrote. Signature: (folder, config, upstream) -> StageResult.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path

from ..errors import FefetError
from .cache import StageResult


def _cli(args: list[str]) -> str:
    """Run a subcommand in-process; its stdout is captured and returned (errors propagate)."""
    from ..cli import build_parser

    ns = build_parser().parse_args([str(a) for a in args])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = ns._run(ns)
    if rc:
        raise FefetError(f"fefet-spice {args[0]} exited with status {rc}")
    return buf.getvalue()


def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


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
    summary["key_figure"] = {"label": "weight FeFET memory window (DC, preset)",
                             "value": summary["weight_dc"]["memory_window_v"], "unit": "V"}
    return StageResult(summary=summary, figures=figures, files=files)


def stage_fit(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Staged lmfit extraction of the weight (and sparsity) FeFET from the reference measurements."""
    summary, figures, files = {}, [], []
    for dev in cfg["devices"]:
        out = folder / f"{dev}_fit.json"
        _cli(["fit", Path(cfg["measurements"]) / dev, "--base", dev, "--name", f"{dev}_fit",
              "--max-nfev", cfg["max_nfev"], "-o", out])
        doc = _load(out)
        p, m = doc["parameters"], doc["metrics"]
        summary[dev] = {"mw_v": p["mw"]["value"], "vt_mid_v": p["vt_mid"]["value"],
                        "ss_mv_dec": 1e3 * p["ss"]["value"], "vc_up_v": p["vc_up"]["value"],
                        "tau0_s": p["tau0"]["value"],
                        "r2_min": min(s["r2"] for s in m.values() if isinstance(s, dict) and "r2" in s)}
        files.append(out)
        figures.extend(sorted(folder.glob(f"{dev}_fit_*.png")))
    w = summary["weight"]
    summary["key_figure"] = {"label": "fitted weight FeFET memory window", "value": w["mw_v"], "unit": "V"}
    return StageResult(summary=summary, figures=figures, files=files)


def _device_file(upstream: dict, dev: str) -> str:
    fit = upstream.get("fit")
    if fit is not None:
        for f in fit.files:
            if Path(f).name == f"{dev}_fit.json":
                return f
    return dev  # a preset name


def stage_characterize(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Monte Carlo conductance-update characterization of the fitted weight FeFET in its cell -> LUT."""
    out = folder / "lut"
    _cli(["characterize", "--params", _device_file(upstream, "weight"), "--variation", "weight",
          "--sparsity", _device_file(upstream, "sparsity"), "--backend", cfg["backend"],
          "--n-devices", cfg["n_devices"], "--n-pulses", cfg["n_pulses"], "--seed", cfg["seed"],
          "--serial" if cfg["backend"] == "numpy" else "--workers=2", "-o", out])
    side = _load(out / "lut.json")
    summary = {"backend": cfg["backend"], "n_devices": cfg["n_devices"], "g_min_s": side["g_min"],
               "g_max_s": side["g_max"], "levels_up": side["levels"]["up"], "levels_down": side["levels"]["down"],
               "masked_ratio": side["masked_ratio"], "disturb_ratio": side.get("disturb_ratio"),
               "simulator": side["provenance"].get("simulator")}
    summary["key_figure"] = {"label": "distinguishable levels up/down",
                             "value": f"{side['levels']['up']}/{side['levels']['down']}",
                             "unit": f"over {1e6 * (side['g_max'] - side['g_min']):.2f} uS"}
    return StageResult(summary=summary, figures=sorted(out.glob("*.png")),
                       files=[out / "lut.json", out / "lut.npz", out / "characterization.json"])


def _lut_folder(upstream: dict) -> Path:
    return Path(upstream["characterize"].files[0]).parent


def stage_export(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """The LUT in every format: native copy, aihwkit, NeuroSim and CrossSim."""
    lut = _lut_folder(upstream)
    summary, files = {}, []
    for fmt in ("native", "aihwkit", "neurosim", "crosssim"):
        out = folder / fmt
        _cli(["export-lut", lut, "--format", fmt, "-o", out])
        files.extend(sorted(p for p in out.rglob("*") if p.is_file()))
        summary[fmt] = sorted(p.name for p in out.iterdir())
    ns = next((f for f in files if f.name.endswith(".json") and f.parent.name == "neurosim"
               and "export" not in f.name), None)
    if ns is not None:
        doc = _load(ns)
        flat = doc.get("RealDevice", doc)
        summary["neurosim_nl"] = {k: flat[k] for k in ("NL_LTP", "NL_LTD") if k in flat}
    nl = summary.get("neurosim_nl", {})
    summary["key_figure"] = {"label": "NeuroSim nonlinearity labels LTP/LTD",
                             "value": f"{nl.get('NL_LTP', float('nan')):.2f}/{nl.get('NL_LTD', float('nan')):.2f}"}
    return StageResult(summary=summary, files=files)


def stage_train(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """MSNet trained on-chip through the LUT: vau against cell and float."""
    from ..train.data import default_dataset

    lut = _lut_folder(upstream)
    # the default (digits) becomes the real EMNIST letters whenever ../shared/data holds them
    dataset = default_dataset() if cfg["dataset"] in ("digits", "auto") else cfg["dataset"]
    summary, figures, files = {"dataset": dataset}, [], []
    for rule in cfg["rules"]:
        j, png = folder / f"train_{rule}.json", folder / f"train_{rule}.png"
        args = ["train", "--lut", lut, "--update", rule, "--dataset", dataset, "--seed", cfg["seed"],
                "--json", j, "--plot", png, "--quiet"]
        if cfg.get("epochs"):
            args += ["--epochs", cfg["epochs"]]
        _cli(args)
        doc = _load(j)
        summary[rule] = {"final_accuracy": doc["final_accuracy"], "final_sparsity": doc["final_sparsity"],
                         "operations": sum(e.get("operations", 0) for e in doc["epochs"])}
        files.append(j)
        figures.append(png)
    acc = {r: summary[r]["final_accuracy"] for r in cfg["rules"]}
    summary["key_figure"] = {"label": f"final test accuracy vau / cell / float ({dataset})",
                             "value": " / ".join(f"{100 * acc[r]:.1f}%" for r in cfg["rules"]),
                             "unit": f"at {100 * summary['vau']['final_sparsity']:.1f}% sparsity"}
    return StageResult(summary=summary, figures=figures, files=files)


def stage_cost(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Weight-update energy and latency (VGG-8 and MSNet): device numbers measured in our ngspice run,
    and, for comparison with the paper, DNN+NeuroSim V2.1's FeFET defaults."""
    energy = None
    spice = upstream.get("netlists")
    if spice is not None:
        energy = next((f for f in spice.files if Path(f).name == "energy.json"), None)
    summary, figures, files = {"energy_file": energy or "documented defaults"}, [], []
    runs = [("vgg8", "ours", ["--energy", energy] if energy else []), ("vgg8", "neurosim", ["--neurosim-device"]),
            ("msnet", "ours", ["--energy", energy] if energy else [])]
    for net, device, extra in runs:
        j, png = folder / f"cost_{net}_{device}.json", folder / f"cost_{net}_{device}.png"
        _cli(["cost", "--network", net, "--sparsity", "preset", "--json", j, "--plot", png, *extra])
        doc = _load(j)
        summary[f"{net}_{device}"] = {name: {"energy_rel_dense": d["energy_rel_dense"],
                                             "latency_rel_dense": d["latency_rel_dense"]}
                                      for name, d in doc["designs"].items()}
        files.append(j)
        figures.append(png)

    def gain(key):
        d = summary[key]
        return d["element"]["energy_rel_dense"] / d["index_free"]["energy_rel_dense"]

    summary["key_figure"] = {"label": "VGG-8 index-free vs element-sparse energy gain, our device / NeuroSim device",
                             "value": f"{gain('vgg8_ours'):.2f}x / {gain('vgg8_neurosim'):.1f}x",
                             "unit": "(paper 13.6x)"}
    return StageResult(summary=summary, figures=figures, files=files)


def stage_netlists(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """ngspice netlists of the fitted devices (libraries, cell testbench, 8x8 VAU deck) and the write and
    read energies measured in ngspice (the cost model's device numbers)."""
    energy = folder / "energy.json"
    _cli(["netlist", "--all", "-o", folder, "--weight", _device_file(upstream, "weight"),
          "--sparsity", _device_file(upstream, "sparsity"), "--energy", energy])
    e = _load(energy)
    summary = {k: v for k, v in e.items() if isinstance(v, (int, float))}
    summary["key_figure"] = {"label": "write energy per pulse (ngspice, full select)",
                             "value": 1e12 * e["write_energy_per_pulse_j"], "unit": "pJ"}
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "manifest.json")
    return StageResult(summary=summary, files=files)
