"""``fefet-spice predict``: replay a capacitor Q-V trace from its V(t) alone with fitted parameters."""
from __future__ import annotations

import argparse

NAME = "predict"
HELP = "predict Q(t) of a capacitor trace from its V(t) with a fitted ferroelectric; nrmse, rmse, r2"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", required=True, help="fit file (fefet-spice fit --qv) or parameter file")
    p.add_argument("--qv", nargs="+", required=True, metavar="FILE", help="Q-V trace files (t, V, Q columns)")
    p.add_argument("--q-unit", help="charge unit when the header has none (C/cm2, uC/cm2, C/m2, C with --area)")
    p.add_argument("--t-unit", default="s", help="time unit when the header has none (default s)")
    p.add_argument("--area", type=float, help="capacitor area [m^2] when Q is a total charge")
    p.add_argument("--init", choices=("fit", "up", "down", "trace"), default="fit",
                   help="initial domain state: as in the fit file (default), saturated up/down, or from the "
                        "trace's first charge")
    p.add_argument("--backend", choices=("numpy", "ngspice"), default="numpy",
                   help="numpy model (default) or the MFM ngspice subcircuit generated from the same parameters")
    p.add_argument("--bins", type=int, help="ngspice: domain bins (default: the fit's n_domains)")
    p.add_argument("--json", help="write metrics (nrmse, rmse, r2) as JSON here")
    p.add_argument("--plot", help="write a PNG of data and prediction here")


def run(args) -> int:
    from ..fit.qv_cli import predict_qv

    return predict_qv(args)
