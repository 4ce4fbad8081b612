"""Command-line glue of ``fefet-spice fit --qv`` and ``fefet-spice predict --qv``."""
from __future__ import annotations

import time
from pathlib import Path

from ..errors import DataError, ParamError


def read_traces(args):
    """The traces named by ``args.qv`` with the unit options applied."""
    from ..readers.qv import read_many

    units = {"t": args.t_unit}
    if args.q_unit:
        units["q"] = args.q_unit
    return read_many(args.qv, units, args.area)


def run_qv(args, out: Path, name: str, base) -> int:
    from ..io.atomic import dumps, save_figure, write_text
    from .qv import default_free, fit_qv
    from .qv_doc import qv_document, qv_figure, summary

    if args.inputs or args.one_pulse or args.mw_table:
        raise ParamError("fit: --qv fits capacitor traces alone; drop the other inputs")
    if not 0.0 <= args.holdout < 0.9:
        raise ParamError(f"--holdout: must be in [0, 0.9), got {args.holdout:g}")
    t0 = time.monotonic()
    traces = read_traces(args)
    for tr in traces:
        if tr.n_nudged:
            print(f"{tr.source}: spread {tr.n_nudged} rounded time stamps evenly", flush=True)
    free, held = default_free(traces, set(args.free))
    stops = [len(tr) - int(round(args.holdout * len(tr))) for tr in traces] if args.holdout else None
    print(f"fit {name}: {len(traces)} Q-V traces, {sum(map(len, traces))} samples; free: "
          f"{', '.join(sorted(free))} + offsets", flush=True)

    def progress(k, n):
        print(f"[fit] start {k + 1}/{n}, {time.monotonic() - t0:.1f}s", flush=True)

    pulses = None
    if args.with_one_pulse:
        import numpy as np

        from .real import read_table

        tab = read_table(args.with_one_pulse, ("pw", "amp", "Pr"))
        pulses = (tab["pw"], tab["amp"], tab["Pr"] / np.abs(tab["Pr"]).max(), 1.0)
        print(f"joint fit with {len(tab['pw'])} one-pulse rows of {args.with_one_pulse}", flush=True)
    res = fit_qv(traces, base.ferro, free, init=args.init, max_nfev=args.max_nfev, fit_stop=stops,
                 progress=progress, pulses=pulses)
    res.held.update(held)
    from .extract import FitNotConverged

    for m, tr in zip(res.metrics, traces):
        if not m["r2"] >= args.min_r2:
            raise FitNotConverged(f"the fit did not converge: {tr.source} ended with R^2 = {m['r2']:.3g} "
                                  f"(< {args.min_r2:g}); check the trace and its units or lower --min-r2")
    doc = qv_document(res, base, [tr.source for tr in traces], name, args.init)
    if pulses is not None:
        from .qv import pulse_rms
        from .report import sha256

        doc["metrics"]["one_pulse"] = {"file": str(args.with_one_pulse), "rms_of_swing": pulse_rms(res.ferro, pulses)}
        doc["data_files"][str(args.with_one_pulse)] = sha256(args.with_one_pulse)
    doc["device"]["params"]["name"] = name
    doc["wall_time_s"] = round(time.monotonic() - t0, 2)
    try:
        text = dumps(doc)
    except (ValueError, TypeError) as e:
        raise DataError(f"{traces[0].source}: the fit result cannot be written ({e})") from None
    if not args.no_plots:
        from .qv import model_charge

        models = model_charge(res.values, base.ferro, traces, args.init)
        save_figure(qv_figure(traces, models, f"Q-V fit {name}", stops), out.with_name(f"{out.stem}_qv.png"), dpi=80)
    write_text(out, text)  # last: a failure above leaves no fit file
    for m, tr in zip(res.metrics, traces):
        extra = (f", train {100 * m['train_nrmse']:.2f} %, held-out {100 * m['heldout_nrmse']:.2f} %"
                 if "heldout_nrmse" in m else "")
        print(f"{tr.source}: nrmse {100 * m['nrmse']:.2f} % of the Q range (r2 {m['r2']:.5f}){extra}")
    print(summary(res))
    from .warnings import format_warning

    for k, src in res.held.items():
        print(f"held: {k}: {src}")
    for w in res.warnings:
        print(format_warning(w))
    print(f"wrote {out} ({doc['wall_time_s']:.1f} s)")
    return 0


def predict_qv(args) -> int:
    from ..commands._outputs import write_outputs
    from ..io.jsonfile import read_json_object
    from ..io.params_file import load_params
    from ..model.capacitor import charge, initial_state_from_charge
    from .qv import trace_metrics
    from .qv_doc import capacitor_of, qv_figure

    if args.plot:
        from ..io.atomic import check_figure_path

        check_figure_path(args.plot)
    params = load_params(args.params)
    cp = capacitor_of(read_json_object(Path(args.params), error=ParamError), args.params)
    traces = read_traces(args)
    results, models = [], []
    for tr in traces:
        c = cp
        if args.init != "fit":
            from dataclasses import replace

            p0 = {"up": 1.0, "down": -1.0}.get(args.init)
            c = replace(cp, p_init=initial_state_from_charge(params.ferro, cp, tr.q[0], tr.v[0]) if p0 is None else p0)
        if args.backend == "ngspice":
            from ..spice.mfm import mfm_charge

            q = mfm_charge(params, c, tr.t, tr.v, n_bins=args.bins or params.ferro.n_domains)
        else:
            q = charge(params.ferro, c, tr.t, tr.v)
        models.append(q)
        m = trace_metrics(q, tr.q)
        results.append({"file": tr.source, **m})
        print(f"{tr.source}: nrmse {100 * m['nrmse']:.2f} % of the Q range, rmse {100 * m['rmse']:.3g} uC/cm^2, "
              f"r2 {m['r2']:.5f}")
    doc = {"schema": "fefet-predict/1", "params": str(args.params), "init": args.init, "backend": args.backend,
           "metrics": results[0] if len(results) == 1 else {"nrmse": max(r["nrmse"] for r in results)},
           "traces": results}
    write_outputs(args.json, doc, args.plot, lambda: qv_figure(traces, models, f"prediction from {args.params}"))
    return 0
