"""``fefet-spice simulate``: run the numpy compact model on a preset or parameter file."""
from __future__ import annotations

import argparse

import numpy as np

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
    from .. import presets, simulate, waveforms as wf
    from ..io.params_file import load_params
    from ..model import merz_switching_voltage
    from ..params import to_dict

    from ..errors import ParamError

    for flag, value in (("--n-devices", args.n_devices), ("--n-pulses", args.n_pulses), ("--rate", args.rate)):
        if not value > 0:
            raise ParamError(f"{flag} must be > 0, got {value!r}")
    if args.vmax is not None and not args.vmax > 0:
        raise ParamError(f"--vmax must be > 0, got {args.vmax!r}")
    params = load_params(args.params) if args.params else presets.get(args.preset)
    if args.nominal:
        params = presets.nominal(params)
    vd = params.op.v_read_d if args.vd is None else args.vd
    fp = params.ferro
    if args.waveform == "dc":
        vmax = args.vmax or 1.4 * float(merz_switching_voltage(max(fp.ea_up, fp.ea_dn), 1e-6, fp.alpha, fp.tau0))
        waveform = wf.dc_double_sweep(-vmax, vmax, step=0.02, rate=args.rate)
    else:
        waveform = wf.potentiation_depression(params, args.n_pulses, args.n_pulses)
    res = simulate(params, waveform, vd=vd, n_devices=args.n_devices, seed=args.seed)
    out = {"params": to_dict(params), "waveform": args.waveform, "seed": args.seed, "vd": vd,
           "t": res.t, "vg": res.vg, "id": res.id, "polarization": res.polarization}
    if res.g_after_pulse is not None:
        out["g_after_pulse"] = res.g_after_pulse
        out["g_initial"] = res.g_initial
        g = res.g_after_pulse
        out["summary"] = {"g_min": float(g.min()), "g_max": float(g.max()), "n_pulses_per_polarity": args.n_pulses}
    else:
        from ..model.metrics import memory_window

        mw = [memory_window(res.vg, res.id[i], 1e-8) for i in range(res.id.shape[0])]
        mw = np.asarray(mw, float)
        # no window at all (the sweep never crosses i_ref on both branches): null, not NaN
        window = float(np.mean(mw[np.isfinite(mw)])) if np.isfinite(mw).any() else None
        out["summary"] = {"memory_window_v": window, "i_ref": 1e-8, "vmax": float(waveform.vg.max())}
    return out, res, params


def run(args) -> int:
    from ._outputs import write_outputs

    if args.plot:
        from ..io.atomic import check_figure_path

        check_figure_path(args.plot)  # before any work
    out, res, params = simulate_to_dict(args)
    summary = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in out["summary"].items())
    print(f"simulated {params.name} ({args.waveform}, {res.id.shape[0]} device(s)): {summary}")
    from ..plotting import plot_simulation

    write_outputs(args.json, out, args.plot, lambda: plot_simulation(res, args.waveform, f"{params.name}: {args.waveform}"))
    return 0
