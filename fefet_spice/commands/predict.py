"""``fefet-spice predict``: replay a capacitor Q-V trace from its V(t) alone with fitted parameters."""
from __future__ import annotations

import argparse

NAME = "predict"
HELP = "predict Q(t) of a capacitor trace from its V(t) with a fitted ferroelectric; nrmse, rmse, r2"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", required=True,
                   help="fit file (fefet-spice fit --qv) or parameter file (its ferroelectric with the default "
                        "capacitor: no leakage, no offset; a note says so)")
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
    p.add_argument("--max-nrmse", type=float, default=1.0,
                   help="largest RMS error accepted, as a fraction of each trace's Q range (default 1 = 100 %%): a "
                        "prediction that misses by more fails with one sentence and writes nothing")
    p.add_argument("--json", help="write metrics (nrmse, rmse, r2) as JSON here")
    p.add_argument("--plot", help="write a PNG of data and prediction here")


def run(args) -> int:
    from .. import api
    from ._outputs import write_outputs

    if args.plot:
        from ..io.atomic import check_figure_path

        check_figure_path(args.plot)
    pred = api.predict_capacitor(args.params, args.qv, init=args.init, backend=args.backend, bins=args.bins,
                                 q_unit=args.q_unit, t_unit=args.t_unit, area=args.area,
                                 max_nrmse=args.max_nrmse)
    for note in pred.notes:
        print(f"note: {note}")
    for m in pred.metrics:
        print(f"{m['file']}: nrmse {100 * m['nrmse']:.2f} % of the Q range, rmse {100 * m['rmse']:.3g} uC/cm^2, "
              f"r2 {m['r2']:.5f}")
    write_outputs(args.json, pred.to_dict(), args.plot, pred.figure)
    return 0
