"""Device stages of the API: simulate the compact model, fit it to measurements."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..errors import DataError, ParamError
from ..params import FeFETParams
from ._common import quantity

I_REF = 1e-8
"""Read current defining the threshold voltages of a memory window [A]."""


@dataclass
class Simulation:
    """Result of :func:`simulate`: the compact model under one waveform (``result`` has read noise;
    ``noise_free`` is the same devices and pulses read without it)."""

    params: FeFETParams
    waveform: str
    seed: int
    vd: float
    n_pulses: int
    result: object
    noise_free: object | None = None
    vmax: float | None = None

    def summary(self) -> dict:
        """Headline numbers: memory window (dc) or conductance range (pulses) [SI]."""
        if self.waveform == "dc":
            from ..model.metrics import memory_window

            res = self.result
            mw = [memory_window(res.vg, res.id[i], I_REF) for i in range(res.id.shape[0])]
            mw = np.asarray(mw, float)
            # no window at all (the sweep never crosses i_ref on both branches): null, not NaN
            window = float(np.mean(mw[np.isfinite(mw)])) if np.isfinite(mw).any() else None
            return {"memory_window_v": window, "i_ref": I_REF, "vmax": float(self.vmax)}
        g = self.result.g_after_pulse
        out = {"g_min": float(g.min()), "g_max": float(g.max()), "n_pulses_per_polarity": self.n_pulses}
        if self.noise_free is not None:
            g0 = self.noise_free.g_after_pulse
            out.update(g_min_noise_free=float(g0.min()), g_max_noise_free=float(g0.max()))
        return out

    def quantities(self) -> list[dict]:
        s = self.summary()
        name = self.params.name
        if self.waveform == "dc":
            return [quantity(f"{name}: memory window at {_si_text(I_REF, 'A')}", s["memory_window_v"], "V"),
                    quantity(f"{name}: sweep amplitude", s["vmax"], "V")]
        note = None
        g_min = s["g_min"]
        if g_min < 0:  # a read of an off device: noise only, never a negative conductance
            note = f"reads with noise clipped at 0 S; noise-free {_si_text(s.get('g_min_noise_free'), 'S')}"
            g_min = 0.0
        elif "g_min_noise_free" in s:
            note = f"noise-free {_si_text(s['g_min_noise_free'], 'S')}"
        return [quantity(f"{name}: G_min after {self.n_pulses} pulses", g_min, "S", note=note),
                quantity(f"{name}: G_max after {self.n_pulses} pulses", s["g_max"], "S",
                         note=f"noise-free {_si_text(s.get('g_max_noise_free'), 'S')}" if "g_max_noise_free" in s else None)]

    def to_dict(self) -> dict:
        from ..params import to_dict

        res = self.result
        out = {"params": to_dict(self.params), "waveform": self.waveform, "seed": self.seed, "vd": self.vd,
               "t": res.t, "vg": res.vg, "id": res.id, "polarization": res.polarization}
        if res.g_after_pulse is not None:
            out["g_after_pulse"] = res.g_after_pulse
            out["g_initial"] = res.g_initial
        out["summary"] = self.summary()
        return out

    def figure(self, title: str | None = None):
        from ..plotting import plot_simulation

        return plot_simulation(self.result, self.waveform, title or f"{self.params.name}: {self.waveform}")

    def save(self, json_path=None, plot_path=None) -> list[Path]:
        """Write the JSON and/or the figure (atomically); returns the paths written."""
        from ..io.atomic import save_figure, write_json

        out = []
        if json_path:
            out.append(write_json(json_path, self.to_dict()))
        if plot_path:
            out.append(save_figure(self.figure(), plot_path))
        return out


def _si_text(value, unit: str) -> str:
    from ..units import si

    return si(value, unit)


def simulate(params: FeFETParams, waveform: str = "pulses", *, n_pulses: int = 64, n_devices: int = 1,
             seed: int = 0, vmax: float | None = None, rate: float = 1.0, vd: float | None = None,
             nominal: bool = False) -> Simulation:
    """The numpy compact model under a DC double sweep (``"dc"``) or identical pulses (``"pulses"``)."""
    from .. import presets, simulate as run_model, waveforms as wf
    from ..model import merz_switching_voltage

    for flag, value in (("--n-devices", n_devices), ("--n-pulses", n_pulses), ("--rate", rate)):
        if not value > 0:
            raise ParamError(f"{flag} must be > 0, got {value!r}")
    if vmax is not None and not vmax > 0:
        raise ParamError(f"--vmax must be > 0, got {vmax!r}")
    if waveform not in ("dc", "pulses"):
        raise ParamError(f"waveform: expected dc or pulses, got {waveform!r}")
    if nominal:
        params = presets.nominal(params)
    vd = params.op.v_read_d if vd is None else vd
    fp = params.ferro
    noise_free = None
    if waveform == "dc":
        vmax = vmax or 1.4 * float(merz_switching_voltage(max(fp.ea_up, fp.ea_dn), 1e-6, fp.alpha, fp.tau0))
        wave = wf.dc_double_sweep(-vmax, vmax, step=0.02, rate=rate)
    else:
        wave = wf.potentiation_depression(params, n_pulses, n_pulses)
    res = run_model(params, wave, vd=vd, n_devices=n_devices, seed=seed)
    if waveform == "pulses" and params.read_noise > 0:  # read noise is drawn last: same devices, same pulses
        noise_free = run_model(replace(params, read_noise=0.0), wave, vd=vd, n_devices=n_devices, seed=seed)
    return Simulation(params, waveform, seed, vd, n_pulses, res, noise_free,
                      float(wave.vg.max()) if waveform == "dc" else None)


def read_measurements(paths: Iterable[str | os.PathLike], **reader_kw) -> tuple[list[Path], list]:
    """Measurement files (folders: every ``*.csv`` inside) -> (files, measurements)."""
    from ..errors import LimitError
    from ..readers import folder_files, read_any
    from ..readers.base import MAX_MEASUREMENT_FILES

    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(folder_files(path, "*.csv"))
            if not found:
                raise DataError(f"{path}: no *.csv files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            from ..io.inputs import not_usable

            raise DataError(f"{path}: {not_usable(path)}")
        if len(files) > MAX_MEASUREMENT_FILES:
            raise LimitError(f"{path}: more than {MAX_MEASUREMENT_FILES:,} measurement files in all; fefet-spice "
                             "reads at most that many at once")
    return files, [m for f in files for m in read_any(f, **reader_kw)]


@dataclass
class FitResult:
    """Result of :func:`fit_device`: fitted parameter set, the ``fefet-fit/1`` document, the outcome."""

    params: FeFETParams
    document: dict
    outcome: object
    name: str
    wall_time_s: float
    files: list[Path] = field(default_factory=list)

    def at_bounds(self) -> list[str]:
        """Fit parameters that ended at (or within 1 % of) a bound (the fit file's ``at_bound`` warnings)."""
        return sorted({w["parameter"] for w in self.document.get("warnings", []) if w.get("kind") == "at_bound"})

    def warnings(self) -> list[str]:
        """Every warning of the fit file (bounds, uncertainty, correlation, undetermined), one sentence each."""
        return [f"{self.name}: {w['message']}" for w in self.document.get("warnings", [])]

    def r2_min(self) -> float:
        return min(st.metrics.get("r2", float("nan")) for st in self.outcome.stages)

    def parameter_rows(self) -> list[dict]:
        """Physical parameters with uncertainties, SI units (for tables)."""
        p = self.document["parameters"]
        rows = [("memory window MW", "mw", "V", 1.0), ("mid-window threshold V_t,mid", "vt_mid", "V", 1.0),
                ("subthreshold swing SS", "ss", "V/dec", 1.0), ("DC switching voltage V_c,up", "vc_up", "V", 1.0),
                ("DC switching voltage V_c,down", "vc_dn", "V", 1.0), ("activation voltage E_a,up", "ea_up", "V", 1.0),
                ("attempt time tau0", "tau0", "s", 1.0), ("low-field mobility mu0", "mu0", "cm²/(V·s)", 1e4),
                ("mobility degradation theta", "theta", "1/V", 1.0), ("contact resistance R_c", "r_contact", "Ω", 1.0),
                ("off-state conductance floor", "g_floor", "S", 1.0)]
        bound = set(self.at_bounds())
        out = []
        for label, key, unit, f in rows:
            if key in p:
                rec = p[key]
                err = rec.get("stderr")
                at = key in bound or (key in ("tau0", "mu0", "g_floor") and f"log10_{key}" in bound)
                out.append(quantity(label, f * rec["value"], unit, None if err is None else f * err,
                                    note="at a bound" if at else None, warn=at))
        return out

    def save(self, path, plots: bool = True, dpi: int = 80) -> list[Path]:
        """Write the fit JSON at ``path`` (last) and the per-stage figures beside it."""
        from ..fit.report import stage_figures
        from ..io.atomic import save_figure, write_json

        path = Path(path)
        figs = stage_figures(self.outcome) if plots else {}
        pngs = [save_figure(fig, path.with_name(f"{path.stem}_{stage}.png"), dpi=dpi) for stage, fig in figs.items()]
        write_json(path, self.document)  # last: a failure above leaves no fit file
        self.files = [path, *pngs]
        return self.files


def fit_device(measurements, base: FeFETParams, *, name: str = "fit", files: Iterable = (), max_nfev: int = 200,
               min_r2: float = 0.9, report: Callable | None = None, base_source: str = "--base") -> FitResult:
    """Staged lmfit extraction of the compact model from ``measurements`` (``Measurement`` objects, or
    paths of files/folders read with :func:`read_measurements`). Raises ``FitNotConverged`` when a stage
    ends below ``min_r2``. ``base_source`` says where the held parameters come from (fit file ``held``)."""
    from ..fit.extract import check_converged, fit_device as extract
    from ..fit.report import fit_document
    from ..params import check_name

    check_name("--name", name)
    measurements = list(measurements)
    if measurements and isinstance(measurements[0], (str, os.PathLike)):
        files, measurements = read_measurements(measurements)
    t0 = time.monotonic()
    outcome = extract(measurements, base, report=report, max_nfev=max_nfev)
    check_converged(outcome, min_r2)
    doc = fit_document(outcome, list(files), name, base_source=base_source)
    doc["device"]["params"]["name"] = name
    wall = round(time.monotonic() - t0, 2)
    doc["wall_time_s"] = wall
    return FitResult(replace(outcome.params, name=name), doc, outcome, name, wall)


@dataclass
class TableFit:
    """Result of :func:`fit_table`: switching kinetics fitted to a one-pulse or memory-window table."""

    result: object
    kind: str
    document: dict
    table: object
    names: object
    path: Path
    files: list[Path] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return "uC/cm^2" if self.kind == "one_pulse" else "V"

    def figure(self):
        from ..fit.real import table_figure

        return table_figure(self.result, self.table, self.names, self.unit)

    def save(self, path, plots: bool = True) -> list[Path]:
        """Write the fit JSON at ``path`` (last; checked to serialize first) and the figure beside it."""
        from ..io.atomic import dumps, save_figure, write_text

        path = Path(path)
        try:
            text = dumps(self.document)  # the document must serialize (no NaN) before anything is written
        except (ValueError, TypeError) as e:
            raise DataError(f"{self.path}: the fit result cannot be written ({e})") from None
        pngs = [save_figure(self.figure(), path.with_name(f"{path.stem}_{self.kind}.png"), dpi=80)] if plots else []
        self.files = [write_text(path, text), *pngs]
        return self.files


def fit_table(path, kind: str, base: FeFETParams, *, name: str = "fit", dist: str = "lognormal",
              beta_free: bool = True, min_r2: float = 0.9, base_source: str = "--base") -> TableFit:
    """Fit switching kinetics to a table: ``kind`` ``one_pulse`` (pw, amp, Pr) or ``mw`` (PW, AMP, MW)."""
    from ..fit.extract import FitNotConverged
    from ..fit.real import table_document, table_fit
    from ..progress import Progress

    path = Path(path)
    with Progress(1, f"fit {kind} table"):
        res, table, names = table_fit(path, kind, dist=dist, beta_free=beta_free)
    r2 = res.metrics.get("r2", float("nan"))
    if not (r2 >= min_r2):
        raise FitNotConverged(
            f"the fit did not converge: the {kind} table fit of {path} ended with R^2 = {r2:.3g} "
            f"(< {min_r2:g}); check the table or lower --min-r2")
    return TableFit(res, kind, table_document(res, kind, base, [path], name, base_source=base_source), table, names, path)
