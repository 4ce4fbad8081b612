"""ngspice vs numpy with the KAI stretch beta (issue 11): accuracy and ngspice wall time.

The same 12 activation quantiles in both (``n_domains = n_bins = 12``), no variation, on the weight preset
with beta replaced: 20 + 20 identical pulses (conductance after each, error as a fraction of the range)
and a +/-6 V DC double sweep (log-current error in decades, where the current is above 10x the floor).
Run: ``.venv/bin/python bench/bench_beta.py [beta ...]`` (prints JSON; default betas 1, 1.5, 3, 0.6;
each beta within the parameter bounds, 0.2 to 5).
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

from fefet_spice import presets
from fefet_spice.params import ParamError


def device(beta: float):
    """The weight preset with ``beta``, 12 domains and no variation (ParamError when beta is out of bounds)."""
    w0 = presets.get("weight")
    return replace(w0, ferro=replace(w0.ferro, beta=beta, n_domains=12), sigma_ea_d2d=0.0, sigma_vt_d2d=0.0,
                   sigma_c2c=0.0, read_noise=0.0)


def run(beta: float) -> dict:
    # imported here (before any timing): --help and a misspelt option answer without loading ngspice/scipy
    from fefet_spice import waveforms as wf
    from fefet_spice.model import simulate
    from fefet_spice.spice.bench import run_device

    p = device(beta)
    vd = p.op.v_read_d
    pulses = wf.potentiation_depression(p, 20, 20)
    ref = simulate(p, pulses, vd=vd).g_after_pulse[0]
    t0 = time.perf_counter()
    got = run_device(p, pulses, vd=vd, n_bins=12).g_after_pulse
    t_pulses = time.perf_counter() - t0
    loop = wf.dc_double_sweep(-6.0, 6.0, step=0.02, rate=1.0)
    sim = simulate(p, loop, vd=vd)
    t0 = time.perf_counter()
    dc = run_device(p, loop, vd=vd, n_bins=12)
    t_dc = time.perf_counter() - t0
    above = np.abs(sim.id[0]) > 10 * p.channel.g_floor * vd
    dec = np.abs(np.log10(np.abs(dc.id[above])) - np.log10(np.abs(sim.id[0][above])))
    return {"beta": beta, "pulses_max_err_of_range": float(np.abs(got - ref).max() / np.ptp(ref)),
            "dc_max_err_decades": float(dec.max()),
            "dc_max_err_p_norm": float(np.abs(dc.p_norm - sim.polarization[0] / p.ferro.ps).max()),
            "ngspice_s": {"pulses": round(t_pulses, 2), "dc_loop": round(t_dc, 2)}}


def parse_args(argv=None):
    """The command line (an unknown or misspelt option, or a beta out of bounds, is an error before any run)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("betas", nargs="*", type=float, metavar="beta",
                    help="KAI stretch exponents to compare (default: 1 1.5 3 0.6)")
    args = ap.parse_args(argv)
    args.betas = args.betas or [1.0, 1.5, 3.0, 0.6]
    for b in args.betas:
        try:
            device(b)
        except ParamError as exc:
            ap.error(f"argument beta: {b!r}: {exc}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    print(json.dumps([run(b) for b in args.betas], indent=1))


if __name__ == "__main__":
    main()
