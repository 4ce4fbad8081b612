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
    print(f"simulated {params.name} ({args.waveform}, {sim.result.id.shape[0]} device(s)): "
          f"{_summary_text(out['summary'], sim.vd)}")
    write_outputs(args.json, out, args.plot, sim.figure)
    return 0


def _summary_text(summary: dict, vd) -> str:
    """The headline numbers for the terminal, each with its reason where a raw value would mislead: a noisy
    read below 0 S is shown clipped at 0 S as the report does (the JSON keeps the raw reads), and a missing
    memory window says why."""
    parts = []
    for key, value in summary.items():
        text = f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
        if key == "g_min" and value < 0:
            text = f"g_min=0 (reads with noise clipped at 0 S; lowest noisy read {value:.4g} S)"
        elif key == "memory_window_v" and value is None:
            why = "; the drain current is negative with vd < 0" if vd is not None and vd < 0 else ""
            text = (f"memory_window_v=None (no window: the drain current never crosses i_ref = "
                    f"{summary.get('i_ref', 0):g} A on both sweep branches{why})")
        parts.append(text)
    return ", ".join(parts)
