"""Fit document (``fefet-fit/1`` with a ``capacitor`` entry) and figures of Q-V fits and predictions."""
from __future__ import annotations

import math
from pathlib import Path
from dataclasses import replace

from ..errors import ParamError
from ..model.capacitor import CapacitorParams, capacitor_from_dict, capacitor_to_dict
from ..params import FeFETParams, to_dict
from .qv import UNITS, QVFit


def _clean(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def qv_document(res: QVFit, base: FeFETParams, files, name: str, init: str) -> dict:
    """JSON-ready result: ``device`` is ``base`` with the fitted ferroelectric (usable as ``--base`` and in
    netlists), ``capacitor`` the leakage / offset / initial state of the first trace."""
    from .report import SCHEMA, sha256

    dev = replace(base, name=name, ferro=res.ferro)
    params = {}
    for k, v in sorted(res.values.items()):
        if k not in res.stderr:
            continue
        unit = UNITS.get(k, UNITS["q_offset"] if k.startswith("q_offset") else "")
        params[k] = {"value": float(v), "stderr": _clean(res.stderr[k]), "unit": unit}
    if "log10_tau0" in res.stderr and res.stderr["log10_tau0"] is not None:
        params["tau0"] = {"value": res.ferro.tau0, "stderr": res.ferro.tau0 * math.log(10) * res.stderr["log10_tau0"],
                          "unit": "s"}
    metrics = [{"file": str(f), **{k: _clean(float(x)) for k, x in m.items() if k != "file"}}
               for f, m in zip(files, res.metrics)]
    out_metrics = {"qv": metrics}
    if res.refits is not None:
        out_metrics["sweeps"] = {**res.refits, "about": "each sweep between turning points predicted by a refit "
                                 "without it (history carried through the whole trace); nrmse of the trace's Q range"}
    return {"schema": SCHEMA, "name": name, "kind": "qv", "device": to_dict(dev),
            "capacitor": capacitor_to_dict(res.capacitor[0]), "init": init, "parameters": params,
            "held": res.held, "metrics": out_metrics, "warnings": res.warnings,
            "correlations": {k: {o: c for o, c in row.items() if abs(c) > 0.9} for k, row in res.correlations.items()},
            "nfev": res.nfev, "data_files": {str(f): sha256(f) for f in sorted(set(map(str, files))) if Path(f).is_file()}}


def capacitor_of(doc: dict, path) -> CapacitorParams:
    """The capacitor entry of a fit document (defaults when the fit was not a Q-V fit)."""
    if "capacitor" not in doc:
        return CapacitorParams()
    try:
        return capacitor_from_dict(doc["capacitor"])
    except ParamError as e:
        raise ParamError(f"{path}: {e}") from None


def qv_figure(traces, models, title: str, stops=None):
    """Q(t) and Q-V of data (grey) and model (colour) for every trace [uC/cm^2]."""
    from ..plotting import new_figure

    fig, ax = new_figure(2, size=(5.5, 4.0))
    for i, (tr, m) in enumerate(zip(traces, models)):
        c = f"C{i % 10}"
        ax[0, 0].plot(tr.t * 1e6, tr.q * 100, color="0.6", lw=2)
        ax[0, 0].plot(tr.t * 1e6, m * 100, color=c, lw=0.9)
        ax[0, 1].plot(tr.v, tr.q * 100, color="0.6", lw=2)
        ax[0, 1].plot(tr.v, m * 100, color=c, lw=0.9)
        if stops and stops[i] < len(tr):
            ax[0, 0].axvline(tr.t[stops[i]] * 1e6, color=c, ls=":", lw=0.8)
    ax[0, 0].set_xlabel("t [us]"); ax[0, 0].set_ylabel("Q [uC/cm^2]")
    ax[0, 1].set_xlabel("V [V]"); ax[0, 1].set_ylabel("Q [uC/cm^2]")
    ax[0, 0].set_title("data (grey), model (colour)")
    fig.suptitle(title)
    return fig


def summary(res: QVFit) -> str:
    """One line of the main fitted values."""
    v, fe = res.values, res.ferro
    return (f"Ps={100 * fe.ps:.2f} uC/cm^2, Ea_up={fe.ea_up:.3g} V, Ea_dn={fe.ea_dn:.3g} V, "
            f"sigma={fe.ea_sigma:.3g}, V_imp={fe.v_imp:.3g} V, alpha={fe.alpha:.3g}, beta={fe.beta:.3g}, "
            f"tau0={fe.tau0:.3g} s, eps_r={fe.eps_r:.3g}, g_leak={v['g_leak']:.3g} S/m^2"
            + (f", imprint spread={fe.imp_sigma:.3g} V ({fe.imp_n} groups)" if fe.imp_n > 1 else "")
            + (f", q_rev={100 * fe.q_rev:.3g} uC/cm^2 at v_rev={fe.v_rev:.3g} V" if fe.q_rev > 0 else ""))

