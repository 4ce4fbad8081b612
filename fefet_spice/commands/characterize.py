"""``fefet-spice characterize``: Monte Carlo conductance-update characterization -> native LUT folder."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

NAME = "characterize"
HELP = "characterize conductance updates (Monte Carlo, numpy or ngspice) and write a synapse LUT"


def _fmt(x, spec: str) -> str:
    return 'n/a' if x is None else format(x, spec)


def _pulse(text: str) -> tuple[float, float, float]:
    try:
        vu, vd, w = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected V_UP,V_DOWN,WIDTH (e.g. 3.9,-3.9,1e-6), got {text!r}") from None
    return vu, vd, w


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", default="weight", help="weight FeFET preset (default weight)")
    src.add_argument("--params", help="weight FeFET parameter or fit JSON file (e.g. fits/X.json)")
    p.add_argument("--sparsity", default="sparsity", help="sparsity FeFET: preset name or parameter file")
    p.add_argument("--variation", metavar="PRESET_OR_FILE",
                   help="take the device-to-device, cycle-to-cycle and read-noise fields (sigma_*, read_noise) "
                        "from this preset or parameter file: a fit of one device cannot measure them")
    p.add_argument("-o", "--out", required=True, help="output LUT folder (e.g. luts/X)")
    p.add_argument("--backend", choices=("numpy", "ngspice"), default="numpy")
    p.add_argument("--n-devices", type=int, default=64, help="Monte Carlo device samples (jobs)")
    p.add_argument("--n-pulses", type=int, default=64, help="identical pulses per branch")
    p.add_argument("--n-probe", type=int, default=16, help="pulses per polarity for masked/half-selected")
    p.add_argument("--pulse", type=_pulse, action="append", metavar="V_UP,V_DOWN,WIDTH",
                   help="pulse pair (repeatable); default: the device's operating point")
    p.add_argument("--topology", choices=("A", "B"), default="B")
    p.add_argument("--v-comp", type=float, default=None, help="inhibit bias magnitude [V] (default V_up)")
    p.add_argument("--n-g", type=int, default=64, help="points of the uniform G grid")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="local process pool size (at most 2)")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://host:port (runs the jobs there)")
    p.add_argument("--serial", action="store_true", help="run the jobs one by one in this process")
    p.add_argument("--cache", help="per-job result folder for resuming (default OUT/.cache, removed on success)")
    p.add_argument("--no-plots", action="store_true")


def _summary(res, args, out: Path) -> dict:
    lut = res.lut
    m = lut.meta
    return {"lut": str(out), "backend": args.backend, "seed": args.seed, "n_devices": args.n_devices,
            "g_min_S": lut.g_min, "g_max_S": lut.g_max, "levels": m["levels"], "masked_ratio": m["masked_ratio"],
            "disturb_ratio": m["disturb_ratio"], "provenance": m["provenance"],
            "kinds": [{"polarity": k.polarity, "amplitude": k.amplitude, "width": k.width} for k in lut.kinds],
            "mean_trajectory_S": {f"pair{j}": res.traj[:, j].mean(0) for j in range(res.traj.shape[1])},
            "masked_mean_S": res.masked.mean(0), "disturb_mean_S": res.disturb.mean(0)}


VARIATION_FIELDS = ("sigma_ea_d2d", "sigma_vt_d2d", "sigma_c2c", "read_noise")


def with_variation_of(params, source):
    """``params`` with the variation and noise fields of ``source``."""
    from dataclasses import replace

    return replace(params, **{f: getattr(source, f) for f in VARIATION_FIELDS})


def run(args) -> int:
    from ..characterize import CharConfig, characterize
    from ..io.atomic import save_figure, write_json
    from ..io.params_file import resolve_params
    from ..lut.native import save_lut
    from ..progress import Progress

    weight = resolve_params(args.params or args.preset)
    if args.variation:
        weight = with_variation_of(weight, resolve_params(args.variation))
    sparsity = resolve_params(args.sparsity)
    out = Path(args.out)
    extra = {"params_file": args.params or f"preset:{args.preset}", "sparsity_file": args.sparsity,
             "variation_from": args.variation}
    config = CharConfig(weight=weight, sparsity=sparsity, pulses=tuple(args.pulse or ()), n_pulses=args.n_pulses,
                        n_devices=args.n_devices, seed=args.seed, n_probe=args.n_probe, backend=args.backend,
                        topology=args.topology, v_comp=args.v_comp, extra=extra)
    executor = "serial" if args.serial else ("dask" if args.scheduler else "pool")
    cache = Path(args.cache) if args.cache else out / ".cache"
    with Progress(config.n_devices, f"characterize {weight.name} ({args.backend}, {executor})") as prog:
        res = characterize(config, executor=executor, workers=args.workers, scheduler=args.scheduler,
                           cache=cache, n_g=args.n_g, progress=lambda n, total: prog.advance())
    save_lut(out, res.lut)
    summary = _summary(res, args, out)
    write_json(out / "characterization.json", summary)
    if not args.no_plots:
        from ..characterize.plots import plot_dg_bands, plot_trajectories

        save_figure(plot_trajectories(res, f"{weight.name}: conductance vs pulse number"), out / "g_vs_pulse.png")
        save_figure(plot_dg_bands(res.lut, f"{weight.name}: ΔG per pulse vs G"), out / "dg_vs_g.png")
    if not args.cache:
        shutil.rmtree(cache, ignore_errors=True)
    lv = res.lut.meta["levels"]
    print(f"characterized {weight.name}: G {res.lut.g_min * 1e6:.3f}..{res.lut.g_max * 1e6:.3f} uS, levels "
          f"up {lv['up']} / down {lv['down']}, masked_ratio {_fmt(res.lut.meta['masked_ratio'], '.3g')}, "
          f"disturb_ratio {_fmt(res.lut.meta['disturb_ratio'], '.3g')}")
    print(f"wrote {out}/lut.npz, lut.json, characterization.json" + ("" if args.no_plots else
          ", g_vs_pulse.png, dg_vs_g.png"), file=sys.stdout)
    return 0
