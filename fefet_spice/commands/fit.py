"""``fefet-spice fit``: staged lmfit extraction of compact-model parameters from measurements."""
from __future__ import annotations

import argparse

NAME = "fit"
HELP = "fit the compact model to measurement files or folders (channel, loops, kinetics, polish)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="*", help="measurement files or folders (folders: every *.csv inside)")
    p.add_argument("-o", "--out", required=True, help="fit result JSON, e.g. out/fits/weight.json")
    p.add_argument("--base", default="weight",
                   help="preset or parameter file giving what the data cannot fix (geometry, C_ox, Ps, "
                        "operating point); default weight")
    p.add_argument("--name", help="name of the fitted device (default: from the output file name)")
    p.add_argument("--no-plots", action="store_true", help="skip the per-stage PNG figures")
    p.add_argument("--max-nfev", type=int, default=200, help="function evaluations per stage (default 200)")
    p.add_argument("--min-r2", type=float, default=0.9,
                   help="every stage must reach this R^2, else the fit fails without writing a file (default 0.9)")
    p.add_argument("--kind", choices=("idvg", "idvd"), help="two-column files: what they hold")
    p.add_argument("--x-unit", default="V", help="two-column files: unit of the first column")
    p.add_argument("--y-unit", default="A", help="two-column files: unit of the second column")
    p.add_argument("--vd", type=float, help="two-column Id-Vg files: drain bias [V]")
    p.add_argument("--dwell", type=float,
                   help="time per sweep point [s] for files without a time column (instrument exports)")
    p.add_argument("--one-pulse", metavar="CSV",
                   help="instead: fit switching kinetics to a table pw [s], amp [V], Pr [uC/cm^2] "
                        "(polarization after one pulse from the fully negative state)")
    p.add_argument("--mw-table", metavar="CSV",
                   help="instead: fit switching kinetics to a table PW [s], AMP [V], MW [V]")
    p.add_argument("--qv", nargs="+", metavar="FILE",
                   help="instead: fit the ferroelectric of an MFM capacitor to Q-V / P-V traces (t, V, Q columns)")
    p.add_argument("--q-unit", help="--qv: charge unit when the header has none (C/cm2, uC/cm2, C/m2, C with --area)")
    p.add_argument("--t-unit", default="s", help="--qv: time unit when the header has none (default s)")
    p.add_argument("--area", type=float, help="--qv: capacitor area [m^2] when Q is a total charge")
    p.add_argument("--init", choices=("up", "down", "trace"), default="up",
                   help="--qv: initial domain state: saturated up (default), down, or from the first charge")
    p.add_argument("--free", nargs="*", default=[],
                   choices=("g_leak", "beta", "ea_sigma_dn", "imp_sigma", "q_rev", "eps_r"),
                   help="--qv: also fit these (default: Ps, Ea_up, Ea_dn, spread, up/down correlation, imprint, "
                        "alpha, tau0, offsets; eps_r from the slope of the branches receding from the largest |V|): "
                        "leakage (then eps_r is fitted too), the NLS stretch beta, a separate down spread, the "
                        "imprint spread (with imp_n > 1 in --base), a saturating reversible polarization, eps_r")
    p.add_argument("--with-one-pulse", metavar="CSV",
                   help="--qv: fit a one-pulse table (pw [s], amp [V], Pr) of the same film jointly; its "
                        "switched fraction Pr/max|Pr| spans pulse widths and pins tau0 and alpha")
    p.add_argument("--holdout", type=float, default=0.0,
                   help="--qv: fit the first 1-F of every trace, report the error on the held-out rest")
    p.add_argument("--no-refits", action="store_true",
                   help="--qv: skip the leave-one-sweep-out refits (held-out sweep errors and refit spread in "
                        "the stated stderr)")
    p.add_argument("--dist", choices=("gaussian", "lognormal"), default="lognormal",
                   help="table fits: activation distribution (default lognormal)")
    p.add_argument("--beta-fixed", action="store_true", help="table fits: hold the KAI stretch beta at 1")


def _measurements(args):
    from .. import api

    kw = {}
    if args.kind:
        kw = {"kind": args.kind, "x_unit": args.x_unit, "y_unit": args.y_unit,
              "metadata": {"vd": args.vd} if args.vd is not None else {}}
    files, ms = api.read_measurements(args.inputs, **kw)
    if args.dwell is not None:
        from dataclasses import replace

        ms = [replace(m, metadata={**m.metadata, "dwell": float(args.dwell)})
              if m.kind != "pulse" and "t" not in m.columns and "dwell" not in m.metadata else m for m in ms]
    return files, ms


def run(args) -> int:
    import time
    from pathlib import Path

    from .. import api
    from ..io.params_file import resolve_params
    from ..params import check_name

    out = Path(args.out)
    name = args.name or out.stem
    check_name("--name", name)
    base = resolve_params(args.base)
    if args.qv:
        return _run_qv(args, out, name, base)
    if args.one_pulse or args.mw_table:
        from ..errors import ParamError

        if args.one_pulse and args.mw_table:
            raise ParamError("fit: give either --one-pulse or --mw-table, not both")
        if args.inputs:
            raise ParamError(f"fit: --{'one-pulse' if args.one_pulse else 'mw-table'} fits a table alone; "
                             f"drop the measurement file arguments ({', '.join(args.inputs)})")
        return _run_table(args, out, name, base)
    if not args.inputs:
        from ..errors import DataError

        raise DataError("fit: give measurement files or folders (or --one-pulse / --mw-table)")
    files, measurements = _measurements(args)
    print(f"fit {name}: {len(measurements)} measurements from {len(files)} files", flush=True)
    t0 = time.monotonic()

    def report(stage, res):
        if res is None:
            print(f"[fit] stage {stage} ...", flush=True)
        else:
            m = res.metrics
            print(f"[fit] stage {stage}: rmse={m['rmse']:.4g} ({m['unit']}), r2={m['r2']:.5f}, "
                  f"nfev={m['nfev']}, {time.monotonic() - t0:.1f}s", flush=True)

    fit = api.fit_device(measurements, base, name=name, files=files, max_nfev=args.max_nfev, min_r2=args.min_r2,
                         report=report, base_source=f"--base {args.base}")
    pngs = fit.save(out, plots=not args.no_plots)[1:]
    p = fit.document["parameters"]
    print(f"wrote {out} ({len(pngs)} figures): MW={p['mw']['value']:.3f} V, Vt_mid={p['vt_mid']['value']:.3f} V, "
          f"SS={1e3 * p['ss']['value']:.1f} mV/dec, Vc_up={p['vc_up']['value']:.3f} V, "
          f"tau0={p['tau0']['value']:.3g} s, alpha={p['alpha']['value']:.3g}, beta={p['beta']['value']:.3g}")
    _print_warnings(fit.document)
    return 0


def _run_qv(args, out, name, base) -> int:
    import time

    from .. import api
    from ..errors import ParamError
    from ..fit.qv_checks import check_fit_traces
    from ..fit.qv_doc import summary

    if args.inputs or args.one_pulse or args.mw_table:
        raise ParamError("fit: --qv fits capacitor traces alone; drop the other inputs")
    if not 0.0 <= args.holdout < 0.9:
        raise ParamError(f"--holdout: must be in [0, 0.9), got {args.holdout:g}")
    if not args.no_plots:
        from ..io.atomic import check_figure_path

        check_figure_path(out.with_name(f"{out.stem}_qv.png"))
    t0 = time.monotonic()
    traces = api.read_qv(args.qv, q_unit=args.q_unit, t_unit=args.t_unit, area=args.area)
    check_fit_traces(traces, base.ferro.t_fe)  # before anything is printed (fit_capacitor checks again)
    for note in api.capacitor.reader_notes(traces):
        print(note, flush=True)
    print(f"fit {name}: {len(traces)} Q-V traces, {sum(map(len, traces))} samples"
          + (f", jointly with the one-pulse table {args.with_one_pulse}" if args.with_one_pulse else ""), flush=True)

    def progress(k, n, what):
        print(f"[fit] {what} {k + 1}/{n}, {time.monotonic() - t0:.1f}s", flush=True)

    fit = api.fit_capacitor(traces, base, name=name, free=args.free, init=args.init, holdout=args.holdout,
                            max_nfev=args.max_nfev, one_pulse=args.with_one_pulse, refits=not args.no_refits,
                            min_r2=args.min_r2, progress=progress)
    fit.save(out, plots=not args.no_plots)
    doc = fit.document
    for m in doc["metrics"]["qv"]:
        extra = (f", train {100 * m['train_nrmse']:.2f} %, held-out {100 * m['heldout_nrmse']:.2f} %"
                 if m.get("heldout_nrmse") is not None else "")
        print(f"{m['file']}: nrmse {100 * m['nrmse']:.2f} % of the Q range (r2 {m['r2']:.5f}){extra}")
    sw = doc["metrics"].get("sweeps")
    if sw and sw["sweeps"]:
        parts = ", ".join(f"{r['v_from']:+.1f}->{r['v_to']:+.1f} V {100 * r['heldout_nrmse']:.2f} %" for r in sw["sweeps"])
        print(f"held-out sweeps (each predicted by a fit without it): {parts}")
    print(summary(fit.fit))
    _print_warnings(doc)
    print(f"wrote {out} ({fit.wall_time_s:.1f} s, CPU {fit.cpu_time_s:.1f} s)")
    return 0


def _run_table(args, out, name, base) -> int:
    from .. import api

    kind = "one_pulse" if args.one_pulse else "mw"
    fit = api.fit_table(args.one_pulse or args.mw_table, kind, base, name=name, dist=args.dist,
                        beta_free=not args.beta_fixed, min_r2=args.min_r2,
                        base_source=f"--base {args.base}")
    fit.save(out, plots=not args.no_plots)
    res, v = fit.result, fit.result.values
    print(f"wrote {out}: RMSE {res.metrics['rmse']:.3f} {fit.unit} (r2 {res.metrics['r2']:.4f}) over "
          f"{res.metrics['n_points']} points; Ea={v['ea_up']:.3g} V, sigma={v['ea_sigma']:.3g}, "
          f"tau0={10 ** v['log10_tau0']:.3g} s, alpha={v['alpha']:.3g}, beta={v['beta']:.3g}"
          + (f"; {res.metrics['cv_folds']}-fold cross-validated RMSE {res.metrics['cv_rmse']:.3f} {fit.unit}"
             if "cv_rmse" in res.metrics else ""))
    _print_warnings(fit.document)
    return 0


def _print_warnings(doc: dict) -> None:
    """The fit file's ``held`` map and ``warnings``, one line each."""
    from ..fit.warnings import format_warning

    for k, src in doc.get("held", {}).items():
        print(f"held: {k}: {src}")
    for w in doc.get("warnings", []):
        print(format_warning(w))
