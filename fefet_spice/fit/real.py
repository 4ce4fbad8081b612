"""Kinetics fits to published one-pulse switching data (P vs pulse width and amplitude; MW vs the same).

Model: :func:`fefet_spice.model.ferro.one_pulse_polarization` (multi-domain Merz-law NLS with the KAI
stretch ``beta``), from the fully negative state, plus an optional linear dielectric term
``eps0 eps_r V / t_fe`` (off by default: the data are remanent values after the pulse).
Data: S. Deng et al., VLSI 2020, DOI 10.1109/VLSITechnology18217.2020.9265014 (``scalable_fefet``).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..model.ferro import one_pulse_polarization
from ..params import FerroParams
from .stages import goodness

EPS0 = 8.8541878128e-12  # [F/m]
TABLE_UNITS = {"pw": "s", "amp": "V", "pr": "uC/cm^2", "mw": "V"}
"""Units of the table columns (a header may state them: ``pw [s],amp [V],Pr [uC/cm^2]``)."""


@dataclass
class KineticsFit:
    """Result of :func:`fit_one_pulse` / :func:`fit_memory_window`."""

    ferro: FerroParams
    values: dict[str, float]
    stderr: dict[str, float | None]
    metrics: dict[str, float]
    model: np.ndarray


def read_table(path: str | os.PathLike, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Numeric CSV with a header row holding ``columns`` (case-insensitive); errors name file and line."""
    from ..io.inputs import check_input_file

    path = check_input_file(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not a UTF-8 text file (byte {e.start})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
    if not lines or not lines[0].strip():
        raise DataError(f"{path}: line 1: the file is empty")
    head = []
    for cell in lines[0].split(","):  # 'pw' or 'pw [s]': a unit, if given, must be the documented one
        name, _, unit = cell.strip().partition("[")
        name, unit = name.strip().lower(), unit.rstrip().rstrip("]").replace(" ", "")
        want = TABLE_UNITS.get(name)
        if unit and want is not None and unit.lower() != want.lower():
            raise DataError(f"{path}: line 1: column {name!r} is in [{unit}]; this table needs [{want}]")
        head.append(name)
    missing = [c for c in columns if c.lower() not in head]
    if missing:
        raise DataError(f"{path}: line 1: wrong columns: missing {', '.join(missing)} (have {', '.join(head)})")
    rows = []
    for no, text in enumerate(lines[1:], 2):
        if not text.strip():
            continue
        cells = text.split(",")
        if len(cells) != len(head):
            raise DataError(f"{path}: line {no}: {len(cells)} values, need {len(head)}")
        try:
            vals = [float(cells[head.index(c.lower())]) for c in columns]
        except ValueError:
            raise DataError(f"{path}: line {no}: not a number in {text.strip()!r}") from None
        if not all(math.isfinite(x) for x in vals):
            raise DataError(f"{path}: line {no}: non-finite value")
        if not vals[0] > 0:
            raise DataError(f"{path}: line {no}: pulse width {columns[0]} must be > 0 s (got {vals[0]:g})")
        rows.append(vals)
    if not rows:
        raise DataError(f"{path}: no data rows")
    arr = np.array(rows)
    return {c: arr[:, j] for j, c in enumerate(columns)}


def _ferro(v, base: FerroParams) -> FerroParams:
    return replace(base, ps=v["ps"], ea_up=v["ea_up"], ea_sigma=v["ea_sigma"], tau0=10.0 ** v["log10_tau0"],
                   alpha=v["alpha"], beta=v["beta"], v_imp=v["v_imp"])


def _fit(residual_model, data_y, start: dict, free: dict, base: FerroParams, max_nfev: int) -> KineticsFit:
    import lmfit

    params = lmfit.Parameters()
    for name, value in start.items():
        lo, hi, vary = free.get(name, (-np.inf, np.inf, False))
        params.add(name, value=value, min=lo, max=hi, vary=vary)

    def resid(p):
        v = p.valuesdict()
        return residual_model(v) - data_y

    out = lmfit.minimize(resid, params, method="leastsq", max_nfev=max_nfev)
    v = out.params.valuesdict()
    model = residual_model(v)
    stderr = {k: (float(out.params[k].stderr) if out.params[k].stderr is not None else None)
              for k in out.params if out.params[k].vary}
    return KineticsFit(_ferro(v, base), dict(v), stderr, goodness(model, data_y), model)


def fit_one_pulse(pw, amp, p_uc, n_domains: int = 128, dist: str = "gaussian", beta_free: bool = True,
                  dielectric: bool = False, max_nfev: int = 2000) -> KineticsFit:
    """Fit switched polarization ``p_uc`` [uC/cm^2] after one pulse of width ``pw`` [s] and amplitude ``amp`` [V].

    Free: Ps, Ea centre and spread, log10 tau0, alpha, beta (unless ``beta_free=False``), imprint;
    with ``dielectric`` also eps_r of a linear term ``eps0 eps_r amp / t_fe``.
    """
    pw, amp, p_uc = (np.asarray(a, float) for a in (pw, amp, p_uc))
    base = FerroParams(n_domains=n_domains, ea_dist=dist)
    ps0 = max(float(np.max(np.abs(p_uc))) / 100.0, 0.01)
    sig0 = 0.3 if dist == "lognormal" else 2.0
    start = {"ps": ps0, "ea_up": 8.0, "ea_sigma": sig0, "log10_tau0": -12.0, "alpha": 2.0, "beta": 1.0,
             "v_imp": 0.0, "eps_r": 0.0}
    free = {"ps": (1e-3, 2.0, True), "ea_up": (0.1, 100.0, True),
            "ea_sigma": (1e-3, 2.0 if dist == "lognormal" else 50.0, True),
            "log10_tau0": (-20.0, -4.0, True), "alpha": (0.3, 6.0, True), "beta": (0.2, 5.0, beta_free),
            "v_imp": (-2.0, 2.0, True), "eps_r": (0.0, 200.0, dielectric)}

    def model(v):
        fp = _ferro(v, base)
        p = one_pulse_polarization(fp, amp, pw) + EPS0 * v["eps_r"] * amp / base.t_fe
        return 100.0 * p  # C/m^2 -> uC/cm^2

    best = None
    for ea0 in (6.0, 10.0, 16.0):  # a few starts: the Ea / tau0 / alpha valley is long
        res = _fit(model, p_uc, {**start, "ea_up": ea0}, free, base, max_nfev)
        if best is None or res.metrics["rmse"] < best.metrics["rmse"]:
            best = res
    return best


def fit_memory_window(pw, amp, mw, n_domains: int = 128, dist: str = "gaussian", beta_free: bool = True,
                      max_nfev: int = 2000) -> KineticsFit:
    """Fit a FeFET memory window ``mw`` [V] after one pulse (``pw`` [s], ``amp`` [V]) from the erased state:
    ``MW = MW_max (P/Ps + 1)/2 + MW_0`` with the same switching model (Ps fixed at 1, it cancels)."""
    pw, amp, mw = (np.asarray(a, float) for a in (pw, amp, mw))
    base = FerroParams(n_domains=n_domains, ea_dist=dist)
    start = {"ps": 1.0, "ea_up": 8.0, "ea_sigma": 0.1 if dist == "lognormal" else 1.0, "log10_tau0": -12.0, "alpha": 2.0, "beta": 1.0,
             "v_imp": 0.0, "mw_max": float(np.ptp(mw)), "mw_0": float(np.min(mw))}
    free = {"ea_up": (0.1, 100.0, True), "ea_sigma": (1e-3, 2.0 if dist == "lognormal" else 50.0, True),
            "log10_tau0": (-20.0, -4.0, True), "alpha": (0.3, 6.0, True), "beta": (0.2, 5.0, beta_free), "mw_max": (0.0, 20.0, True),
            "mw_0": (-5.0, 5.0, True)}

    def model(v):
        p = one_pulse_polarization(_ferro(v, base), amp, pw)
        return v["mw_max"] * 0.5 * (p + 1.0) + v["mw_0"]

    best = None
    for ea0 in (6.0, 10.0, 16.0):
        res = _fit(model, mw, {**start, "ea_up": ea0}, free, base, max_nfev)
        if best is None or res.metrics["rmse"] < best.metrics["rmse"]:
            best = res
    return best


def table_fit(path: str | os.PathLike, kind: str, dist: str = "lognormal", beta_free: bool = True):
    """Read a published table and fit it: ``kind`` 'one_pulse' (pw, amp, Pr [uC/cm^2]) or 'mw' (PW, AMP, MW [V]).

    Returns the fit, the table and the abscissa names.
    """
    names = ("pw", "amp", "Pr") if kind == "one_pulse" else ("PW", "AMP", "MW")
    t = read_table(path, names)
    n_free = 7 if beta_free else 6  # Ps/MW_max+MW_0, Ea, sigma, tau0, alpha, imprint / -, beta
    n = len(t[names[0]])
    if n <= n_free:
        raise DataError(f"{path}: {n} data rows; the fit has {n_free} free parameters and needs more rows than that")
    fit = fit_one_pulse if kind == "one_pulse" else fit_memory_window
    try:
        res = fit(t[names[0]], t[names[1]], t[names[2]], dist=dist, beta_free=beta_free)
    except (ValueError, TypeError) as e:
        raise DataError(f"{path}: the kinetics fit failed on these data ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return res, t, names


def table_document(res: KineticsFit, kind: str, base, files, name: str) -> dict:
    """``fefet-fit/1`` document of a table fit; ``device`` is ``base`` with the fitted switching kinetics."""
    from ..params import to_dict
    from .report import SCHEMA, _clean, sha256

    fe = replace(base.ferro, ea_up=res.ferro.ea_up, ea_dn=res.ferro.ea_up, ea_sigma=res.ferro.ea_sigma,
                 ea_dist=res.ferro.ea_dist, tau0=res.ferro.tau0, alpha=res.ferro.alpha, beta=res.ferro.beta,
                 v_imp=res.ferro.v_imp, ps=res.ferro.ps if kind == "one_pulse" else base.ferro.ps)
    dev = replace(base, name=name, ferro=fe, mw=res.values.get("mw_max", base.mw))
    unit = "uC/cm^2" if kind == "one_pulse" else "V"
    params = {k: {"value": float(v), "stderr": _clean(res.stderr.get(k))} for k, v in res.values.items()}
    metrics = {k: _clean(v) for k, v in res.metrics.items()}
    return {"schema": SCHEMA, "name": name, "device": to_dict(dev), "parameters": params,
            "metrics": {kind: {**metrics, "unit": unit}}, "correlations": {},
            "data_files": {str(f): sha256(f) for f in files}}


def table_figure(res: KineticsFit, table: dict, names: tuple[str, str, str], unit: str):
    """Data (dots) and fit (lines) vs pulse width, one colour per amplitude."""
    from ..plotting import new_figure

    pw, amp, y = (table[n] for n in names)
    fig, ax = new_figure(1, size=(6.0, 4.2))
    a = ax[0, 0]
    for k, v in enumerate(np.unique(amp)):
        sel = amp == v
        o = np.argsort(pw[sel])
        a.semilogx(pw[sel][o], y[sel][o], "o", ms=3, color=f"C{k % 10}", label=f"{v:g} V")
        a.semilogx(pw[sel][o], res.model[sel][o], "-", lw=1, color=f"C{k % 10}")
    a.set_xlabel("pulse width [s]"); a.set_ylabel(f"{names[2]} [{unit}]"); a.legend(fontsize=7)
    a.set_title(f"one-pulse kinetics fit: RMSE {res.metrics['rmse']:.3g} {unit}, beta {res.values['beta']:.2f}")
    return fig
