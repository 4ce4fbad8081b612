"""``fefet-spice characterize``: Monte Carlo conductance-update characterization -> native LUT folder."""
from __future__ import annotations

import argparse
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
    p.add_argument("-o", "--out", required=True, help="output LUT folder (e.g. out/luts/weight)")
    p.add_argument("--backend", choices=("numpy", "ngspice"), default="numpy")
    p.add_argument("--n-devices", type=int, default=64, help="Monte Carlo device samples (jobs)")
    p.add_argument("--n-pulses", type=int, default=64, help="identical pulses per branch")
    p.add_argument("--n-probe", type=int, default=16, help="pulses per polarity for masked/half-selected")
    p.add_argument("--pulse", type=_pulse, action="append", metavar="V_UP,V_DOWN,WIDTH",
                   help="pulse pair (repeatable); default: the device's operating point")
    p.add_argument("--traffic", type=int, default=0, metavar="N",
                   help="random-sign pulses per device (as on-chip training fires them) that give the LUT's "
                        "dG statistics of the first pulse pair instead of the monotone sweeps (default 0: the sweeps)")
    p.add_argument("--p-reverse", type=float, default=None, metavar="P",
                   help="probability that a --traffic pulse reverses the sign of the last (default 0.65)")
    p.add_argument("--topology", choices=("A", "B"), default="B")
    p.add_argument("--v-comp", type=float, default=None, help="inhibit bias magnitude [V] (default V_up)")
    p.add_argument("--n-g", type=int, default=64, help="points of the uniform G grid")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="local process pool size (at most 2)")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://host:port (runs the jobs there)")
    p.add_argument("--serial", action="store_true", help="run the jobs one by one in this process")
    p.add_argument("--cache", help="per-job result folder for resuming (default OUT/.cache, removed on success)")
    p.add_argument("--no-plots", action="store_true")


def run(args) -> int:
    from .. import api
    from ..io.params_file import resolve_params
    from ..progress import Progress

    weight = resolve_params(args.params or args.preset)
    out = Path(args.out)
    extra = {"params_file": args.params or f"preset:{args.preset}", "sparsity_file": args.sparsity,
             "variation_from": args.variation}
    executor = "serial" if args.serial else ("dask" if args.scheduler else "pool")
    cache = Path(args.cache) if args.cache else out / ".cache"
    with Progress(args.n_devices, f"characterize {weight.name} ({args.backend}, {executor})") as prog:
        char = api.characterize(weight, resolve_params(args.sparsity),
                                variation_from=resolve_params(args.variation) if args.variation else None,
                                backend=args.backend, n_devices=args.n_devices, n_pulses=args.n_pulses, seed=args.seed,
                                n_probe=args.n_probe, pulses=args.pulse or (), topology=args.topology,
                                v_comp=args.v_comp, n_g=args.n_g, executor=executor, workers=args.workers,
                                scheduler=args.scheduler, cache=cache, extra=extra,
                                n_traffic=args.traffic, p_reverse=args.p_reverse,
                                progress=lambda n, total: prog.advance())
    char.save(out, plots=not args.no_plots)
    if not args.cache:  # only the cache's own files go: a file of the user's in OUT/.cache stays
        from ..characterize.runner import remove_cache

        remove_cache(cache)
    lut = char.lut
    lv = lut.meta["levels"]
    print(f"characterized {weight.name}: G {lut.g_min * 1e6:.3f}..{lut.g_max * 1e6:.3f} uS, levels "
          f"up {lv['up']} / down {lv['down']}, masked_ratio {_fmt(lut.meta['masked_ratio'], '.3g')}, "
          f"disturb_ratio {_fmt(lut.meta['disturb_ratio'], '.3g')}")
    src = lut.meta.get("dg_source")
    if src:
        print(f"dG statistics from {src['n_traffic']} traffic pulses per device (reversal fraction "
              f"{_fmt(src['reversal_fraction'], '.3f')}; bins {', '.join(f'{k} {v}' for k, v in src['bins_from_traffic'].items())} "
              f"of {len(lut.g_grid)}; the rest from the sweeps)")
    for w in char.warnings():
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {out}/lut.npz, lut.json, characterization.json" + ("" if args.no_plots else
          ", g_vs_pulse.png, dg_vs_g.png"), file=sys.stdout)
    return 0
