"""``fefet-spice simulate``: run the numpy compact model on a preset or parameter file."""
from __future__ import annotations

import argparse

NAME = "simulate"
HELP = "simulate FeFETs (numpy model) under a DC double sweep or a pulse train"


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", default="weight", help="preset name: weight or sparsity (default weight)")
    src.add_argument("--params", help="parameter or fit JSON file (instead of --preset)")
    p.add_argument("--waveform", choices=("dc", "pulses"), default="pulses")
    p.add_argument("--vmax", type=float, default=None, help="dc: sweep amplitude [V] (default 1.4 x V50)")
    p.add_argument("--rate", type=float, default=1.0, help="dc: sweep rate [V/s]")
    p.add_argument("--n-pulses", type=int, default=64, help="pulses: identical pulses per polarity")
    p.add_argument("--n-devices", type=int, default=1)
    p.add_argument("--vd", type=float, default=None, help="drain bias [V] (default: the device's V_D)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nominal", action="store_true", help="switch off all variation and noise")
    p.add_argument("--json", help="write the result as JSON here")
    p.add_argument("--plot", help="write a PNG here")


def simulate_to_dict(args) -> tuple[dict, object, object]:
    """(JSON-ready result, the :class:`~fefet_spice.api.Simulation`, its parameters) for parsed arguments."""
    from .. import api
    from ..io.params_file import load_params
    from .. import presets

    params = load_params(args.params) if args.params else presets.get(args.preset)
    sim = api.simulate(params, args.waveform, n_pulses=args.n_pulses, n_devices=args.n_devices, seed=args.seed,
                       vmax=args.vmax, rate=args.rate, vd=args.vd, nominal=args.nominal)
    return sim.to_dict(), sim, sim.params


def run(args) -> int:
    from ._outputs import write_outputs

    if args.plot:
        from ..io.atomic import check_figure_path

        check_figure_path(args.plot)  # before any work
    out, sim, params = simulate_to_dict(args)
    summary = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in out["summary"].items())
    print(f"simulated {params.name} ({args.waveform}, {sim.result.id.shape[0]} device(s)): {summary}")
    write_outputs(args.json, out, args.plot, sim.figure)
    return 0
