"""Fit outputs: the ``fefet-fit/1`` JSON document and data-vs-fit figures for every stage."""
from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np

from ..model.channel import subthreshold_swing
from ..params import to_dict
from . import data as fd
from .extract import FitOutcome
from .spec import UNITS

SCHEMA = "fefet-fit/1"


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _clean(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def fit_document(outcome: FitOutcome, files, name: str, base_source: str = "--base") -> dict:
    """JSON-ready fit result: device parameters, values with uncertainties, metrics, correlations, hashes,
    ``held`` (parameter -> where its value comes from) and ``warnings`` (:mod:`.coverage`, :mod:`.warnings`)."""
    from .coverage import held, stage_warnings, undetermined

    stderr: dict[str, float | None] = {}
    corr: dict[str, dict] = {}
    for st in outcome.stages:  # later stages override earlier estimates
        stderr.update(st.stderr)
        corr[st.name] = st.correlations
    p = outcome.params
    fe = p.ferro
    derived = {"ea_up": fe.ea_up, "ea_dn": fe.ea_dn, "ea_sigma": fe.ea_sigma, "tau0": fe.tau0,
               "mu0": p.channel.mu0, "g_floor": p.channel.g_floor, "ss": float(subthreshold_swing(p.channel))}
    params = {k: {"value": float(v), "stderr": _clean(stderr.get(k)), "unit": UNITS.get(k, "")}
              for k, v in sorted(outcome.values.items())}
    f = derived["ea_up"] / outcome.values["vc_up"]
    for k, v in derived.items():
        err = None
        if k in ("ea_up", "ea_dn", "ea_sigma"):
            src = {"ea_up": "vc_up", "ea_dn": "vc_dn", "ea_sigma": "vc_sigma"}[k]
            err = None if stderr.get(src) is None else _ea_stderr(v, stderr[src] * f, outcome.values, stderr, corr)
        elif k == "ss" and stderr.get("n_ss") is not None:
            err = v * stderr["n_ss"] / p.channel.n_ss
        elif k in ("tau0", "mu0", "g_floor"):
            src = f"log10_{k}"
            err = None if stderr.get(src) is None else v * math.log(10.0) * stderr[src]
        params[k] = {"value": float(v), "stderr": _clean(err),
                     "unit": {"tau0": "s", "mu0": "m^2/(V s)", "g_floor": "S", "ss": "V/dec"}.get(k, "V")}
    metrics = {st.name: {k: _clean(v) for k, v in st.metrics.items()} for st in outcome.stages}
    missing = undetermined(outcome.data, outcome.kinetics_free)
    return {"schema": SCHEMA, "name": name, "device": to_dict(p), "parameters": params, "metrics": metrics,
            "correlations": corr, "held": {**held(outcome.data, outcome.kinetics_free, base_source),
                                           **(outcome.notes or {})},
            "warnings": stage_warnings(outcome.stages, missing),
            "data_files": {str(f): sha256(f) for f in sorted(set(map(str, files)))}}


def _ea_stderr(ea: float, err_vc: float, values, stderr, corr) -> float:
    """stderr of ``Ea = Vc ln(t_dc/tau0)^(1/alpha)`` with the uncertainty of tau0 and alpha propagated
    (their correlation from the last stage that varied both)."""
    a, lt = values["alpha"], values["log10_tau0"]
    big_l = math.log(values["dc_dwell"]) - lt * math.log(10.0)
    d_lt = -ea * math.log(10.0) / (a * big_l)  # dEa / dlog10_tau0
    d_a = -ea * math.log(big_l) / a ** 2  # dEa / dalpha
    s_lt, s_a = stderr.get("log10_tau0") or 0.0, stderr.get("alpha") or 0.0
    rho = 0.0
    for st in corr.values():
        rho = st.get("alpha", {}).get("log10_tau0", rho)
    var = err_vc ** 2 + (d_lt * s_lt) ** 2 + (d_a * s_a) ** 2 + 2 * rho * d_lt * s_lt * d_a * s_a
    return float(math.sqrt(max(var, err_vc ** 2)))


def stage_figures(outcome: FitOutcome) -> dict[str, object]:
    """One matplotlib figure per stage (data as dots, model as lines)."""
    from ..plotting import new_figure

    p, v, data = outcome.params, outcome.values, outcome.data
    figs = {}
    names = [s.name for s in outcome.stages]
    if "channel_sub" in names:
        fig, ax = new_figure(2)
        vg, vd, i, st, grp = fd.channel_points(data)
        m = fd.channel_current(p, v["vt_hi"], v["vt_lo"], vg, vd, st)
        for c, g in enumerate(sorted(set(grp.tolist()))):
            sel = grp == g
            x = vg[sel] if g >= 0 else vd[sel]
            o = np.argsort(x)
            col = f"C{c % 10}"
            if g >= 0:
                ax[0, 0].semilogy(x[o], np.abs(i[sel][o]), ".", ms=2, color=col)
                ax[0, 0].semilogy(x[o], np.abs(m[sel][o]), "-", lw=0.8, color=col)
            ax[0, 1].plot(x[o], i[sel][o] * 1e6, ".", ms=2, color=col)
            ax[0, 1].plot(x[o], m[sel][o] * 1e6, "-", lw=0.8, color=col)
        ax[0, 0].set_xlabel("V_G [V]"); ax[0, 0].set_ylabel("|I_D| [A]")
        ax[0, 0].set_title("channel: unswitched branches (log)")
        ax[0, 1].set_xlabel("V_G (Id-Vg) or V_D (Id-Vd) [V]"); ax[0, 1].set_ylabel("I_D [µA]")
        ax[0, 1].set_title("channel: above threshold (linear)")
        figs["channel"] = fig
    if "loops" in names:
        n = len(data.sweeps)
        fig, ax = new_figure(min(n, 4), (n + 3) // 4, size=(4.0, 3.2))
        for k, r in enumerate(data.sweeps):
            a = ax[k // 4, k % 4]
            a.semilogy(r.x, np.abs(r.y) + 1e-16, ".", ms=2, color="k", label="data")
            a.semilogy(r.x, np.abs(fd.simulate_run(p, r)) + 1e-16, "-", lw=1, color="C3", label="fit")
            a.set_title(Path(r.source).stem, fontsize=8); a.set_xlabel("V_G [V]")
        for k in range(n, ax.size):  # no empty panels: remove the grid's unused axes
            fig.delaxes(ax[k // 4, k % 4])
        ax[0, 0].set_ylabel("|I_D| [A]"); ax[0, 0].legend(fontsize=7)
        figs["loops"] = fig
    if data.pulses and "kinetics" in names:
        fig, ax = new_figure(1, size=(7.0, 4.0))
        a = ax[0, 0]
        for k, r in enumerate(data.pulses):
            a.plot(r.x, r.y * 1e6, ".", ms=3, color=f"C{k}", label=Path(r.source).stem)
            a.plot(r.x, fd.simulate_run(p, r) * 1e6, "-", lw=1, color=f"C{k}")
        a.set_xlabel("pulse number"); a.set_ylabel("G [µS]"); a.legend(fontsize=7)
        a.set_title("kinetics and polish: conductance vs pulse (dots data, lines fit)")
        figs["kinetics"] = fig
    return figs
