"""Capacitor stages of the API: fit the ferroelectric of an MFM capacitor to Q-V traces, predict traces.

    from fefet_spice import api, presets
    fit = api.fit_capacitor(["MFM_scheme1.csv"], presets.get("weight"), q_unit="C/cm2")
    print(fit.document["metrics"]["sweeps"]["heldout_nrmse_max"], fit.warnings())
    pred = api.predict_capacitor(fit, ["other_waveform.csv"], q_unit="C/cm2")
    print(pred.metrics[0]["nrmse"], pred.notes)
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..errors import DataError, ParamError
from ..params import FeFETParams
from ..fit.qv_checks import MAX_NRMSE
from ._common import quantity


def read_qv(paths: Iterable, *, q_unit: str | None = None, t_unit: str = "s", area: float | None = None) -> list:
    """Q-V traces (:class:`~fefet_spice.readers.qv.QVTrace`) from files; unit options as the CLI's."""
    from ..readers.qv import read_many

    units = {"t": t_unit}
    if q_unit:
        units["q"] = q_unit
    return read_many([str(p) for p in paths], units, area)


def _traces(traces, q_unit, t_unit, area) -> list:
    traces = list(traces)
    if traces and isinstance(traces[0], (str, os.PathLike)):
        return read_qv(traces, q_unit=q_unit, t_unit=t_unit, area=area)
    return traces


def check_capacitor_job(paths, *, q_unit: str | None = None, t_unit: str = "s", area: float | None = None,
                        base: FeFETParams | None = None) -> list:
    """Read every file of a fit-and-predict job (``run --qv``: the first fitted, the others predicted) and
    refuse, before any work, what the fit or a prediction could not use (the checks of
    :mod:`fefet_spice.fit.qv_checks`, ``base`` as in :func:`fit_capacitor`); the traces."""
    from .. import presets
    from ..fit.qv_checks import check_fit_traces, check_predict_traces

    traces = read_qv(paths, q_unit=q_unit, t_unit=t_unit, area=area)
    check_fit_traces(traces[:1], (presets.get("weight") if base is None else base).ferro.t_fe)
    check_predict_traces(traces[1:])
    return traces


def reader_notes(traces) -> list[str]:
    """What reading changed in the traces, one sentence each (spread rounded time stamps)."""
    return [f"{tr.source}: spread {tr.n_nudged} repeated or rounded time stamps evenly" for tr in traces if tr.n_nudged]


@dataclass
class CapacitorFit:
    """Result of :func:`fit_capacitor`: the fitted ferroelectric, its ``fefet-fit/1`` document (with
    ``sweeps``: the leave-one-sweep-out held-out errors and refit spreads), the traces and the cost."""

    fit: object
    document: dict
    traces: list
    base: FeFETParams
    name: str
    init: str
    masks: list
    wall_time_s: float
    cpu_time_s: float
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def params(self) -> FeFETParams:
        """``base`` with the fitted ferroelectric (usable as ``--base`` of a FeFET fit and in netlists)."""
        return replace(self.base, name=self.name, ferro=self.fit.ferro)

    @property
    def capacitor(self):
        """Leakage, offset and initial state of the first trace."""
        return self.fit.capacitor[0]

    def warnings(self) -> list[str]:
        return [f"{self.name}: {w['message']}" for w in self.document.get("warnings", [])]

    def model_charges(self) -> list[np.ndarray]:
        from ..fit.qv import model_charge

        return model_charge(self.fit.values, self.base.ferro, self.traces, self.init)

    def quantities(self) -> list[dict]:
        """Fit error, held-out sweep error, the main physical parameters with their stated stderr."""
        q = [quantity(f"{Path(m['file']).name}: fit error (RMS / Q range)", 100 * m["nrmse"], "(% of the Q range)")
             for m in self.document["metrics"]["qv"]]
        sw = self.document["metrics"].get("sweeps")
        if sw and sw.get("heldout_nrmse_max") is not None:
            q.append(quantity("held-out sweeps: worst error (each sweep predicted by a fit without it)",
                              100 * sw["heldout_nrmse_max"], "(% of the Q range)",
                              note=f"mean {100 * sw['heldout_nrmse_mean']:.2f} % over {len(sw['sweeps'])} sweeps"))
        p = self.document["parameters"]
        for label, key, unit in (("saturation polarization Ps", "ps", "C/m²"), ("E_a,up", "ea_up", "V"),
                                 ("E_a,down", "ea_dn", "V"), ("imprint V_imp", "v_imp", "V"),
                                 ("linear permittivity eps_r", "eps_r", "(eps_r)"), ("stretch beta", "beta", "(beta)")):
            if key in p:
                q.append(quantity(label, p[key]["value"], unit, p[key].get("stderr")))
        q.append(quantity("fit CPU time", self.cpu_time_s, "s"))
        return q

    def figure(self):
        from ..fit.qv_doc import qv_figure

        stops = [len(tr) - int(np.argmax(m[::-1])) if m.any() and not m.all() else len(tr)
                 for tr, m in zip(self.traces, self.masks)]
        return qv_figure(self.traces, self.model_charges(), f"Q-V fit {self.name}", stops)

    def save(self, path, plots: bool = True, dpi: int = 80) -> list[Path]:
        """Write the fit JSON at ``path`` (last, checked to serialize first) and ``<stem>_qv.png``."""
        from ..io.atomic import dumps, save_figure, write_text

        path = Path(path)
        try:
            text = dumps(self.document)
        except (ValueError, TypeError) as e:
            raise DataError(f"{self.traces[0].source}: the fit result cannot be written ({e})") from None
        pngs = [save_figure(self.figure(), path.with_name(f"{path.stem}_qv.png"), dpi=dpi)] if plots else []
        self.files = [write_text(path, text), *pngs]
        return self.files


def fit_capacitor(traces, base: FeFETParams | None = None, *, name: str = "capacitor", free: Iterable[str] = (),
                  init: str = "up", holdout: float = 0.0, max_nfev: int = 200, one_pulse=None,
                  refits: bool = True, min_r2: float = 0.9, q_unit: str | None = None, t_unit: str = "s",
                  area: float | None = None, progress: Callable | None = None) -> CapacitorFit:
    """Fit the ferroelectric of an MFM capacitor to Q-V traces (paths or ``QVTrace`` objects).

    ``base`` supplies what is not fitted (geometry, the domain grid; default the weight preset);
    :func:`fefet_spice.fit.qv.capacitor_base` sets the model structure chosen on held-out sweeps.
    ``free``: optional extras (``g_leak``). ``holdout``: fit the first ``1 - holdout`` of every trace.
    ``one_pulse``: a one-pulse table (pw, amp, Pr) of the same film, fitted jointly. ``refits``: the
    leave-one-sweep-out refits that give held-out errors and the stated stderr. ``progress(k, n, what)``
    is called before every start and refit. Raises
    ``FitNotConverged`` when a trace ends below ``min_r2``.
    """
    from .. import presets
    from ..fit.extract import FitNotConverged
    from ..fit.qv import capacitor_base, default_free, fit_qv
    from ..fit.qv_checks import check_fit_traces
    from ..fit.qv_doc import qv_document
    from ..fit.qv_refit import apply_refits, segment_refits
    from ..params import check_name

    check_name("name", name)
    if init not in ("up", "down", "trace"):
        raise ParamError(f"init: expected up, down or trace, got {init!r}")
    if not 0.0 <= holdout < 0.9:
        raise ParamError(f"--holdout: must be in [0, 0.9), got {holdout:g}")
    base = presets.get("weight") if base is None else base
    base = replace(base, ferro=capacitor_base(base.ferro))
    t0, c0 = time.monotonic(), time.process_time()
    traces = _traces(traces, q_unit, t_unit, area)
    masks = [np.arange(len(tr)) < len(tr) - int(round(holdout * len(tr))) for tr in traces]
    check_fit_traces(traces, base.ferro.t_fe, masks)
    fr, held = default_free(traces, set(free))
    pulses = None
    if one_pulse is not None:
        from ..fit.real import read_table

        tab = read_table(one_pulse, ("pw", "amp", "Pr"))
        pulses = (tab["pw"], tab["amp"], tab["Pr"] / np.abs(tab["Pr"]).max(), 1.0)
    res = fit_qv(traces, base.ferro, fr, init=init, max_nfev=max_nfev, masks=masks, pulses=pulses,
                 progress=(lambda k, n: progress(k, n, "start")) if progress else None)
    res.held.update(held)
    for m, tr in zip(res.metrics, traces):
        m["file"] = tr.source
        if not m["r2"] >= min_r2:
            raise FitNotConverged(f"the fit did not converge: {tr.source} ended with R^2 = {m['r2']:.3g} "
                                  f"(< {min_r2:g}); check the trace and its units or lower --min-r2")
    if refits:
        rf = segment_refits(traces, base.ferro, fr, res, init, masks=masks, pulses=pulses,
                            progress=(lambda k, n: progress(k, n, "refit without sweep")) if progress else None)
        apply_refits(res, rf)
    doc = qv_document(res, base, [tr.source for tr in traces], name, init)
    if pulses is not None:
        from ..fit.qv import pulse_rms
        from ..fit.report import sha256

        doc["metrics"]["one_pulse"] = {"file": str(one_pulse), "rms_of_swing": pulse_rms(res.ferro, pulses)}
        doc["data_files"][str(one_pulse)] = sha256(one_pulse)
    doc["device"]["params"]["name"] = name
    notes = reader_notes(traces)
    if notes:
        doc["notes"] = notes
    wall, cpu = round(time.monotonic() - t0, 2), round(time.process_time() - c0, 2)
    doc["wall_time_s"], doc["cpu_time_s"] = wall, cpu
    return CapacitorFit(res, doc, traces, base, name, init, masks, wall, cpu, notes)


@dataclass
class CapacitorPrediction:
    """Result of :func:`predict_capacitor`: model charge of every trace from its V(t) alone."""

    traces: list
    charges: list
    metrics: list[dict]
    backend: str
    init: str
    source: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"schema": "fefet-predict/1", "params": self.source, "init": self.init, "backend": self.backend,
                "metrics": self.metrics[0] if len(self.metrics) == 1 else
                {"nrmse": max(r["nrmse"] for r in self.metrics)},
                "traces": self.metrics, "notes": self.notes}

    def quantities(self) -> list[dict]:
        return [quantity(f"{Path(m['file']).name}: predicted from V(t) (RMS error / Q range)", 100 * m["nrmse"],
                         "(% of the Q range)") for m in self.metrics]

    def figure(self, title: str | None = None):
        from ..fit.qv_doc import qv_figure

        return qv_figure(self.traces, self.charges, title or f"prediction from {self.source}")

    def save(self, json_path=None, plot_path=None) -> list[Path]:
        from ._common import save_json_and_figure

        return save_json_and_figure(self.to_dict(), self.figure, json_path, plot_path)


def load_capacitor(path) -> tuple[FeFETParams, object, str]:
    """(params, capacitor, init) of a fit file (``fit --qv``) or a parameter file (default capacitor)."""
    from ..fit.qv_doc import capacitor_of
    from ..io.jsonfile import read_json_object
    from ..io.params_file import load_params

    params = load_params(path)
    doc = read_json_object(Path(path), error=ParamError)
    return params, capacitor_of(doc, path), str(doc.get("init", "up"))


def is_capacitor_fit(path) -> bool:
    """Whether ``path`` is the result of a capacitor fit (``fit --qv``: it holds a ``capacitor`` entry)."""
    from ..io.jsonfile import read_json_object

    return "capacitor" in read_json_object(Path(path), error=ParamError)


def predict_capacitor(params, traces, *, capacitor=None, init: str = "fit", backend: str = "numpy",
                      bins: int | None = None, q_unit: str | None = None, t_unit: str = "s",
                      area: float | None = None, max_nrmse: float | None = MAX_NRMSE) -> CapacitorPrediction:
    """Q(t) of every trace from its V(t) with a fitted ferroelectric.

    ``params``: a :class:`CapacitorFit`, a fit / parameter file, or ``FeFETParams`` (with ``capacitor``).
    ``init``: ``fit`` (the fit's initial state), ``up``, ``down`` or ``trace`` (from the first charge).
    ``backend``: ``numpy`` or ``ngspice`` (the MFM subcircuit from the same parameters, ``bins`` domain
    bins, default the model's ``n_domains``). ``notes`` says what was changed on the way (and when a
    parameter file is not a capacitor fit). A trace whose charge does not vary is refused before any work;
    a prediction whose RMS error exceeds ``max_nrmse`` times a trace's Q range (default 1: more than the
    whole range) raises :class:`~fefet_spice.errors.DataError` (``None`` accepts any error).
    """
    from ..fit.qv import trace_metrics
    from ..fit.qv_checks import check_max_nrmse, check_predict_traces, check_prediction
    from ..model.capacitor import CapacitorParams, charge, initial_state_from_charge

    if init not in ("fit", "up", "down", "trace"):
        raise ParamError(f"init: expected fit, up, down or trace, got {init!r}")
    if backend not in ("numpy", "ngspice"):
        raise ParamError(f"backend: expected numpy or ngspice, got {backend!r}")
    max_nrmse = check_max_nrmse(max_nrmse)
    notes = []
    if isinstance(params, CapacitorFit):
        source, p, cp = params.name, params.params, params.capacitor
        label = f"the fit {source!r}"
    elif isinstance(params, FeFETParams):
        source, p, cp = params.name, params, capacitor or CapacitorParams()
        label = f"the parameters {source!r}"
    else:
        source = label = str(params)
        p, cp, _ = load_capacitor(params)
        if not is_capacitor_fit(params):
            notes.append(f"{source} is not a capacitor fit (fefet-spice fit --qv): its ferroelectric is used with "
                         "the default capacitor (no leakage, no charge offset"
                         + (", initially saturated up)" if init == "fit" else ")"))
    traces = _traces(traces, q_unit, t_unit, area)
    check_predict_traces(traces)
    notes = reader_notes(traces) + notes
    n_bins = p.ferro.n_domains if bins is None else int(bins)
    if backend == "ngspice":
        step = p.ferro.ea_cond * p.ferro.imp_n
        if not 1 <= n_bins <= 4096 or n_bins % step:
            raise ParamError(f"--bins: must be a multiple of {step} within 1..4096 for this ferroelectric, got {n_bins}")
        if p.ferro.beta != 1.0:
            notes.append(f"ngspice runs beta = {p.ferro.beta:.4g} through the progress-node ODE (its switched "
                         "fraction agrees with the numpy model within about 0.2 % of the swing)")
        if n_bins != p.ferro.n_domains:
            notes.append(f"ngspice uses {n_bins} domain bins, the numpy model {p.ferro.n_domains} domains")
    charges, metrics = [], []
    for tr in traces:
        c = cp
        if init != "fit":
            p0 = {"up": 1.0, "down": -1.0}.get(init)
            c = replace(cp, p_init=initial_state_from_charge(p.ferro, cp, tr.q[0], tr.v[0]) if p0 is None else p0)
        if backend == "ngspice":
            from ..spice.mfm import mfm_charge

            q = mfm_charge(p, c, tr.t, tr.v, n_bins=n_bins)
        else:
            q = charge(p.ferro, c, tr.t, tr.v)
        charges.append(q)
        metrics.append({"file": tr.source, **trace_metrics(q, tr.q)})
    check_prediction(metrics, max_nrmse, label)
    return CapacitorPrediction(traces, charges, metrics, backend, init, source, notes)
