"""Stage functions of the main job: each calls the Python API (:mod:`fefet_spice.api`) on typed inputs,
saves the result objects into the stage folder and reports what the report shows. Signature:
``(folder, config, upstream) -> StageResult``. Upstream outputs are read from disk only because a cached
stage has nothing else to hand over.

Every summary carries, beside its raw numbers: ``about`` (what the stage does), ``quantities`` (labelled
numbers with SI units), ``warnings``, ``captions`` (one sentence per figure), ``commands`` (the CLI
commands that reproduce the stage alone), ``seeds`` and ``inputs`` (file hashes) for provenance.
"""
from __future__ import annotations

from pathlib import Path

from .. import api, presets
from ..api._common import quantity
from ..api.lut import FORMATS
from ..progress import Progress
from ..units import si
from .cache import StageResult, file_hash


def _fig(path: Path, caption: str, captions: dict) -> Path:
    captions[Path(path).name] = caption
    return Path(path)


def stage_model(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """The compact model on both presets: Id-Vg loops and identical-pulse conductance updates."""
    summary, figures, files, quantities, captions, commands = {}, [], [], [], {}, []
    for preset in ("weight", "sparsity"):
        for waveform in ("dc", "pulses"):
            sim = api.simulate(presets.get(preset), waveform, n_pulses=cfg["n_pulses"], n_devices=cfg["n_devices"],
                               seed=cfg["seed"])
            stem = folder / f"{preset}_{waveform}"
            j, png = sim.save(stem.with_suffix(".json"), stem.with_suffix(".png"))
            files.append(j)
            what = ("drain current during a DC double sweep of the gate: the counter-clockwise loop is the memory "
                    "window" if waveform == "dc" else
                    f"conductance read after each of {cfg['n_pulses']} identical potentiating, then depressing pulses")
            figures.append(_fig(png, f"{preset} FeFET preset, {cfg['n_devices']} devices: {what}.", captions))
            summary[f"{preset}_{waveform}"] = sim.summary()
            quantities.extend(sim.quantities())
            commands.append(f"fefet-spice simulate --preset {preset} --waveform {waveform} --n-devices "
                            f"{cfg['n_devices']} --n-pulses {cfg['n_pulses']} --seed {cfg['seed']} "
                            f"--json {stem}.json --plot {stem}.png")
    summary.update(about="The numpy compact model (multi-domain Preisach ferroelectric, charge-based MoS2 channel) "
                         "on the two preset devices, before any fit.",
                   quantities=quantities, captions=captions, commands=commands, seeds={"model": cfg["seed"]},
                   key_figure={"label": "weight FeFET memory window (DC, preset)",
                               "value": summary["weight_dc"]["memory_window_v"], "unit": "V"})
    return StageResult(summary=summary, figures=figures, files=files)


def stage_fit(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Staged lmfit extraction of the weight (and sparsity) FeFET from the reference measurements."""
    summary, figures, files, warnings, captions, commands, inputs = {}, [], [], [], {}, [], {}
    parameters, quantities = {}, []
    for dev in cfg["devices"]:
        src = Path(cfg["measurements"]) / dev
        inputs[str(src)] = file_hash(src)
        paths, ms = api.read_measurements([src])
        out = folder / f"{dev}_fit.json"
        with Progress(1, f"fit {dev} ({len(ms)} measurements)"):
            fit = api.fit_device(ms, presets.get(dev), name=f"{dev}_fit", files=paths, max_nfev=cfg["max_nfev"])
        saved = fit.save(out)
        files.append(out)
        for png in saved[1:]:
            stage = png.stem.rsplit("_fit_", 1)[-1]
            figures.append(_fig(png, f"{dev} FeFET, {stage} stage: measured data (dots) against the fitted model "
                                     "(lines).", captions))
        p = fit.document["parameters"]
        summary[dev] = {"mw_v": p["mw"]["value"], "vt_mid_v": p["vt_mid"]["value"],
                        "ss_mv_dec": 1e3 * p["ss"]["value"], "vc_up_v": p["vc_up"]["value"],
                        "tau0_s": p["tau0"]["value"], "r2_min": fit.r2_min(), "at_bounds": fit.at_bounds()}
        parameters[dev] = fit.parameter_rows()
        quantities.append(quantity(f"{dev}: worst stage R² (of {len(fit.outcome.stages)})", fit.r2_min(),
                                               "(R²)"))
        quantities.append(quantity(f"{dev}: fit wall time", fit.wall_time_s, "s"))
        warnings.extend(fit.warnings())
        commands.append(f"fefet-spice fit {src} --base {dev} --name {dev}_fit --max-nfev {cfg['max_nfev']} -o {out}")
    summary.update(about="Compact-model parameters extracted from the measurements in stages (channel, loops, "
                         "kinetics, joint polish); uncertainties are lmfit's standard errors.",
                   parameters=parameters, quantities=quantities, warnings=warnings, captions=captions,
                   commands=commands, inputs=inputs,
                   key_figure={"label": "fitted weight FeFET memory window", "value": summary["weight"]["mw_v"],
                               "unit": "V"})
    return StageResult(summary=summary, figures=figures, files=files)


def _device(upstream: dict, dev: str):
    """The fitted device of the fit stage (its saved file: the stage may have come from the cache), else
    the preset; returns (params, how the CLI names it)."""
    from ..io.params_file import load_params

    fit = upstream.get("fit")
    for f in (fit.files if fit is not None else []):
        if Path(f).name == f"{dev}_fit.json":
            return load_params(f), str(f)
    return presets.get(dev), dev


def stage_netlists(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """ngspice netlists of the fitted devices (libraries, cell testbench, 8x8 VAU deck) and the write and
    read energies measured in ngspice (the cost model's device numbers)."""
    (weight, wname), (sparsity, sname) = _device(upstream, "weight"), _device(upstream, "sparsity")
    files = api.netlists(weight, sparsity).save(folder)
    energy = api.energies(weight, sparsity)
    files += energy.save(folder / "energy.json")
    e = energy.record
    summary = {k: v for k, v in e.items() if isinstance(v, (int, float))}
    summary.update(about="ngspice netlists generated from the same parameter objects as the numpy model, and the "
                         "cell's write and read energies measured in ngspice (the cost model's device numbers).",
                   quantities=energy.quantities(), simulator=e["provenance"].get("simulator"),
                   commands=[f"fefet-spice netlist --all -o {folder} --weight {wname} --sparsity {sname} "
                             f"--energy {folder / 'energy.json'}"],
                   key_figure={"label": "write energy per pulse (ngspice, full select)",
                               "value": 1e12 * e["write_energy_per_pulse_j"], "unit": "pJ"})
    return StageResult(summary=summary, files=sorted(files))


def stage_characterize(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Monte Carlo conductance-update characterization of the fitted weight FeFET in its cell -> LUT."""
    (weight, wname), (sparsity, sname) = _device(upstream, "weight"), _device(upstream, "sparsity")
    serial = cfg["backend"] == "numpy"
    from ..characterize.runner import remove_cache
    from ..errors import DataError

    cache = folder.parent / ".cache" / folder.name  # finished jobs survive an interrupt: the next run resumes
    for attempt in (0, 1):
        try:
            with Progress(cfg["n_devices"], f"characterize {weight.name} ({cfg['backend']})") as prog:
                char = api.characterize(weight, sparsity, variation_from=presets.get("weight"),
                                        backend=cfg["backend"], n_devices=cfg["n_devices"], n_pulses=cfg["n_pulses"],
                                        seed=cfg["seed"], executor="serial" if serial else "pool", workers=2,
                                        cache=cache, progress=lambda n, total: prog.advance(),
                                        extra={"params_file": wname, "sparsity_file": sname,
                                               "variation_from": "weight"})
            break
        except DataError as exc:  # the cache of an earlier configuration: ours to drop
            if attempt or "belongs to another run" not in str(exc):
                raise
            remove_cache(cache)
    remove_cache(cache)
    try:
        cache.parent.rmdir()
    except OSError:
        pass
    out = folder / "lut"
    char.save(out)
    lut, m = char.lut, char.lut.meta
    captions = {}
    _fig(char.figures[0], f"Conductance of each of {cfg['n_devices']} Monte Carlo devices against pulse number "
                          "(potentiation, then depression), with the masked and half-selected cells.", captions)
    _fig(char.figures[1], "Conductance change per pulse against conductance: mean and spread, the table the "
                          "trainer and the exports use.", captions)
    summary = {"backend": cfg["backend"], "n_devices": cfg["n_devices"], "g_min_s": lut.g_min, "g_max_s": lut.g_max,
               "levels_up": m["levels"]["up"], "levels_down": m["levels"]["down"], "masked_ratio": m["masked_ratio"],
               "disturb_ratio": m["disturb_ratio"], "probe_start": m.get("probe_start"),
               "simulator": m["provenance"].get("simulator"),
               "simulator_version": m["provenance"].get("simulator_version"),
               "about": "Monte Carlo pulse response of the fitted weight FeFET in its cell (device-to-device, "
                        "cycle-to-cycle and read-noise fields from the weight preset: one device's fit cannot "
                        "measure them), assembled into the synapse lookup table.",
               "quantities": char.quantities(), "warnings": char.warnings(), "captions": captions,
               "seeds": {"characterize": cfg["seed"]},
               "commands": [f"fefet-spice characterize --params {wname} --variation weight --sparsity {sname} "
                            f"--backend {cfg['backend']} --n-devices {cfg['n_devices']} --n-pulses {cfg['n_pulses']} "
                            f"--seed {cfg['seed']} {'--serial' if serial else '--workers 2'} -o {out}"]}
    summary["key_figure"] = {"label": "distinguishable levels up/down",
                             "value": f"{m['levels']['up']}/{m['levels']['down']}",
                             "unit": f"over {si(lut.g_max - lut.g_min, 'S')}"}
    return StageResult(summary=summary, figures=char.figures, files=char.files)


def _lut_folder(upstream: dict) -> Path:
    return Path(upstream["characterize"].files[0]).parent


def stage_export(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """The LUT in every format: native copy, aihwkit, NeuroSim and CrossSim."""
    from ..lut.native import load_lut

    src = _lut_folder(upstream)
    lut = load_lut(src)
    summary, files, commands = {}, [], []
    for fmt in FORMATS:
        ex = api.export_lut(lut, fmt, folder / fmt, source=str(src))
        files.extend([*ex.files, ex.manifest])
        summary[fmt] = sorted(p.name for p in [*ex.files, ex.manifest])
        if ex.info:
            summary["neurosim_nl"] = {k: ex.info[k] for k in ("NL_LTP", "NL_LTD")}
            summary["neurosim_levels"] = {k: ex.info[k] for k in ("maxNumLevelLTP", "maxNumLevelLTD")}
        commands.append(f"fefet-spice export-lut {src} --format {fmt} -o {folder / fmt}")
    nl = summary.get("neurosim_nl", {})
    q = quantity
    summary.update(about="The lookup table translated for IBM aihwkit (PiecewiseStepDevice), DNN+NeuroSim "
                         "(RealDevice) and CrossSim (DG_LOOKUP).", commands=commands,
                   quantities=[q("NeuroSim nonlinearity label, potentiation", nl.get("NL_LTP"), "(NL)"),
                               q("NeuroSim nonlinearity label, depression", nl.get("NL_LTD"), "(NL)"),
                               q("NeuroSim levels, potentiation", summary.get("neurosim_levels", {}).get("maxNumLevelLTP"),
                                 "levels"),
                               q("files written", len(files), "files")],
                   key_figure={"label": "NeuroSim nonlinearity labels LTP/LTD",
                               "value": f"{nl.get('NL_LTP', float('nan')):.2f}/{nl.get('NL_LTD', float('nan')):.2f}",
                               "unit": "(NeuroSim NL labels)"})
    return StageResult(summary=summary, files=sorted(files))


def stage_train(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """MSNet trained on-chip through the LUT: vau against cell and float."""
    from ..lut.native import load_lut
    from ..train.data import default_dataset
    from ..train.msnet import SHAPES
    from .compare import ARRAY_FIELDS

    src = _lut_folder(upstream)
    lut = load_lut(src)
    # 'auto': the real EMNIST letters whenever ../shared/data holds them, else the embedded digits
    dataset = default_dataset() if cfg["dataset"] == "auto" else cfg["dataset"]
    ds = api.load_dataset(dataset, seed=cfg["seed"])
    sch = api.make_schedule(epochs=cfg.get("epochs"), protocol=cfg.get("protocol", "paper"))
    summary, figures, files, quantities, captions, commands = {}, [], [], [], {}, []
    for rule in cfg["rules"]:
        j, png = folder / f"train_{rule}.json", folder / f"train_{rule}.png"
        with Progress(1, f"train MSNet ({rule}, {sch.epochs} epochs)"):
            res = api.train(ds, lut, rule, sch, seed=cfg["seed"], lut_name=f"lut {src}")
        res.save(j, png)
        rec = res.record
        summary[rule] = {"final_accuracy": res.final_accuracy, "final_sparsity": res.final_sparsity,
                         "dense_software_accuracy": rec.get("dense_software_accuracy"),
                         "operations": rec["operations_total"],
                         "operations_per_update": res.operations_per_step(),
                         # what the array did (the report shows "not measured" for a field the trainer lacks)
                         **{k: rec[k] for k in ARRAY_FIELDS if rec.get(k) is not None},
                         "onchip_epochs": sum(1 for r in rec["epochs"] if r.get("phase") == "onchip"),
                         "accumulate": rec.get("schedule", {}).get("accumulate"), "registers": rec.get("registers"),
                         "schedule": {"prune_aware_passes": rec.get("schedule", {}).get("prune_aware_passes")}}
        quantities.extend(res.quantities())
        files.append(j)
        left = ("test accuracy and sparsity (per layer and overall) against epoch; the dotted line ends the "
                "off-chip pretraining")
        figures.append(_fig(png, f"Update rule {rule}: {left}; exact float updates follow, no array." if rule == "float"
                            else f"Update rule {rule}. Left: {left}, on-chip training through the lookup table "
                                 "follows. Right: array operations and write pulses per epoch (log axis, epochs with "
                                 "none left out)" + (" and the VAU fit error" if rule.startswith("vau") else "") + ".",
                            captions))
        epochs = f" --epochs {cfg['epochs']}" if cfg.get("epochs") else ""
        commands.append(f"fefet-spice train --lut {src} --update {rule} --protocol {sch.protocol} "
                        f"--dataset {dataset} --seed {cfg['seed']}"
                        f"{epochs} --json {j} --plot {png}")
    acc = {r: summary[r]["final_accuracy"] for r in cfg["rules"]}
    about = {"paper": "dense pretraining in software, then transfer of the dense network and every pruning step, "
                      "over-pruning and regrowth on the array through the lookup table",
             "software-pruned": "pretrained and pruned in software (pruning-aware fine-tuning before transfer), "
                                "then on-chip through the lookup table",
             "scratch": "from random weights, every epoch on the array through the lookup table (no software "
                        "training)"}[sch.protocol]
    summary.update(about=f"MSNet (1,060 weights) trained on {ds.source}: {about}; the VAU rule against cell-by-cell "
                         "device updates and exact float updates, each beside the same run with the on-chip update "
                         "switched off.", protocol=sch.protocol,
                   dataset=ds.source, epochs=sch.epochs, quantities=quantities, captions=captions, commands=commands,
                   seeds={"train": cfg["seed"]}, inputs=_dataset_hashes(dataset),
                   vau_formula={"n_plus_1": sum(n + 1 for _, n in SHAPES), "m_times_n": sum(m * n for m, n in SHAPES)},
                   key_figure={"label": f"final test accuracy vau / cell / float ({ds.source})",
                               "value": " / ".join(f"{100 * acc[r]:.1f}%" for r in cfg["rules"]),
                               "unit": f"at {100 * summary['vau']['final_sparsity']:.1f}% sparsity"})
    return StageResult(summary=summary, figures=figures, files=files)


def _dataset_hashes(spec: str) -> dict:
    _, _, path = spec.partition(":")
    return {path: file_hash(path)} if path else {spec: "scikit-learn's bundled digits"}


def stage_cost(folder: Path, cfg: dict, upstream: dict) -> StageResult:
    """Weight-update energy and latency (VGG-8 and MSNet): device numbers measured in our ngspice run,
    and, for comparison with the paper, DNN+NeuroSim V2.1's FeFET defaults."""
    spice = upstream.get("netlists")
    energy = next((f for f in (spice.files if spice is not None else []) if Path(f).name == "energy.json"), None)
    summary, figures, files, captions, commands, quantities = {"energy_file": energy or "documented defaults"}, [], [], {}, [], []
    runs = [("vgg8", "ours", energy), ("vgg8", "neurosim", "neurosim"), ("msnet", "ours", energy)]
    for net, device, source in runs:
        j, png = folder / f"cost_{net}_{device}.json", folder / f"cost_{net}_{device}.png"
        res = api.cost(net, "preset", source)
        res.save(j, png)
        summary[f"{net}_{device}"] = {name: {"energy_rel_dense": d["energy_rel_dense"],
                                             "latency_rel_dense": d["latency_rel_dense"]}
                                      for name, d in res.report["designs"].items()}
        summary[f"{net}_{device}_ratios"] = res.ratios
        summary[f"{net}_{device}_half_select_share"] = res.half_select_share()
        who = "DNN+NeuroSim V2.1's FeFET" if device == "neurosim" else "our ngspice-measured device"
        quantities.extend({**q, "label": f"{net.upper()}, {who}: {q['label']}"} for q in res.quantities())
        files.append(j)
        figures.append(_fig(png, f"{net.upper()} weight-update stage with {who}: energy and latency of each design "
                                 "normalized to dense, and the index-free gain against sparsity.", captions))
        dev_flag = "--neurosim-device" if device == "neurosim" else (f"--energy {energy}" if energy else "")
        commands.append(f"fefet-spice cost --network {net} --sparsity preset {dev_flag} --json {j} --plot {png}")
    summary.update(about="Energy and latency of the weight-update stage for dense, block-, vector- and element-sparse "
                         "(external index) and index-free arrays, normalized to dense.",
                   quantities=quantities, captions=captions, commands=commands)

    def cost(key):  # index-free energy over element-sparse's, with the direction in words
        d = summary[key]
        r = d["index_free"]["energy_rel_dense"] / d["element"]["energy_rel_dense"]
        return f"{r:.3g}x more" if r >= 1 else f"{1 / r:.3g}x less"

    summary["key_figure"] = {"label": "VGG-8 update energy of index-free against element-sparse, our device / "
                                      "NeuroSim's device",
                             "value": f"{cost('vgg8_ours')} / {cost('vgg8_neurosim')}",
                             "unit": "(paper: 13.6x less)"}
    return StageResult(summary=summary, figures=figures, files=files)
