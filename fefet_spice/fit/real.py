"""Kinetics fits to published one-pulse switching data (P vs pulse width and amplitude; MW vs the same).

Model: :func:`fefet_spice.model.ferro.one_pulse_polarization` (multi-domain Merz-law NLS with the KAI
stretch ``beta``), from the fully negative state, plus an optional linear dielectric term
``eps0 eps_r V / t_fe`` (off by default: the data are remanent values after the pulse).
Data: S. Deng et al., VLSI 2020, DOI 10.1109/VLSITechnology18217.2020.9265014 (``scalable_fefet``).
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import DataError, shown, shown_list
from ..model.ferro import one_pulse_polarization
from ..params import FerroParams
from .stages import goodness

EPS0 = 8.8541878128e-12  # [F/m]
"""Units of the table columns (a header may state them: ``pw [s],amp [V],Pr [uC/cm^2]``)."""


@dataclass
class KineticsFit:
    """Result of :func:`fit_one_pulse` / :func:`fit_memory_window`."""

    ferro: FerroParams
    values: dict[str, float]
    stderr: dict[str, float | None]
    metrics: dict[str, float]
    model: np.ndarray
    params: object = None
    """The lmfit ``Parameters`` of the fit (bounds, stderr, correlations)."""
    warnings: list = field(default_factory=list)
    """:func:`fefet_spice.fit.warnings.fit_warnings` records (and a cross-validation check)."""


COLUMN_ALIASES = {"pw": ("pw", "pulse_width", "width", "t_pw"), "amp": ("amp", "amplitude", "v_pulse"),
                  "p": ("pr", "p", "p_r", "polarization"), "mw": ("mw", "memory_window")}
"""Canonical column -> header names accepted (case-insensitive; a unit may follow in [..] or (..))."""
COLUMN_UNITS = {"pw": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9},
                "amp": {"v": 1.0, "mv": 1e-3},
                "p": {"uc/cm2": 1.0, "uc/cm^2": 1.0, "c/m2": 100.0, "c/m^2": 100.0, "mc/m2": 0.1,
                      "mc/m^2": 0.1, "c/cm2": 1e6, "c/cm^2": 1e6},
                "mw": {"v": 1.0, "mv": 1e-3}}
"""Units a header may state, as factors to the table's working units (s, V, uC/cm^2, V)."""
_HEAD = re.compile(r"^\s*([^\[\(]*?)\s*(?:[\[\(]\s*([^\]\)]*?)\s*[\]\)])?\s*$")


def _canonical(column: str) -> str:
    low = column.strip().lower()
    for key, names in COLUMN_ALIASES.items():
        if low == key or low in names:
            return key
    raise ValueError(f"unknown table column {column!r}")


def _header(path: Path, line: str) -> list[tuple[str, str | None]]:
    out = []
    for cell in line.split(","):
        m = _HEAD.match(cell)
        name, unit = (m.group(1), m.group(2)) if m else (cell, None)
        out.append((name.strip().lower().replace(" ", "_"), unit.strip().lower().replace(" ", "") if unit else None))
    return out


def _locate(path: Path, head, want: str) -> tuple[int, float]:
    """Index of the column holding canonical quantity ``want`` and the factor of its stated unit."""
    key = _canonical(want)
    names = (key,) + COLUMN_ALIASES[key]
    hits = [j for j, (n, _) in enumerate(head) if n in names]
    if not hits:
        raise DataError(f"{path}: line 1: wrong columns: missing {want} (any of {'/'.join(COLUMN_ALIASES[key])}; "
                        f"have {shown_list(n for n, _ in head)})")
    j = hits[0]
    unit = head[j][1]
    if unit is None or unit in ("-", ""):
        return j, 1.0
    unit = unit.replace("\u00b5", "u").replace("\u03bc", "u").replace("\u00b2", "2")
    factors = COLUMN_UNITS[key]
    if unit not in factors:
        stated = f"[{unit}]" if len(unit) <= 60 and unit.isprintable() else shown(unit)
        raise DataError(f"{path}: line 1: column {shown(head[j][0])} has unit {stated}; use one of {', '.join(factors)}")
    return j, factors[unit]


MAX_TABLE_ROWS = 10_000
"""Most data rows of a kinetics table (every row is one model evaluation per fit iteration)."""
TABLE_BOUNDS = {"pw": (0.0, 1e3), "amp": (-100.0, 100.0), "mw": (-100.0, 100.0), "p": (-1e3, 1e3),
                "pr": (-1e3, 1e3)}
"""Plausible ranges of the table columns after unit conversion [s], [V], [V], [uC/cm^2]."""


def read_table(path: str | os.PathLike, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Numeric CSV with a header row holding ``columns``; errors name file and line.

    Each requested column is matched by :data:`COLUMN_ALIASES` (so ``Pr``, ``P`` and ``Pr [uC/cm2]`` all
    give the polarization, ``PW``/``pw`` the width, ``AMP``/``amp`` the amplitude) and converted from a
    unit stated in the header (:data:`COLUMN_UNITS`). The result is keyed by the names asked for.
    """
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
    head = _header(path, lines[0])
    where = [_locate(path, head, c) for c in columns]
    rows = []
    for no, text in enumerate(lines[1:], 2):
        if not text.strip():
            continue
        cells = text.split(",")
        if len(cells) != len(head):
            raise DataError(f"{path}: line {no}: {len(cells)} values, need {len(head)}")
        try:
            vals = [float(cells[j]) * f for j, f in where]
        except ValueError:
            raise DataError(f"{path}: line {no}: not a number in {shown(text.strip())}") from None
        if not all(math.isfinite(x) for x in vals):
            raise DataError(f"{path}: line {no}: non-finite value")
        if not vals[0] > 0:
            raise DataError(f"{path}: line {no}: pulse width {columns[0]} must be > 0 s (got {vals[0]:g})")
        for c, x in zip(columns, vals):
            lo, hi = TABLE_BOUNDS.get(c.lower(), (-math.inf, math.inf))
            if not lo <= x <= hi:
                raise DataError(f"{path}: line {no}: {c} = {x:g} is outside {lo:g} .. {hi:g} (SI units)")
        rows.append(vals)
        if len(rows) > MAX_TABLE_ROWS:
            raise DataError(f"{path}: line {no}: more than {MAX_TABLE_ROWS} data rows (a kinetics table has tens; "
                            "thin it out)")
    if not rows:
        raise DataError(f"{path}: no data rows")
    arr = np.array(rows)
    return {c: arr[:, j] for j, c in enumerate(columns)}


def _ferro(v, base: FerroParams) -> FerroParams:
    return replace(base, ps=v["ps"], ea_up=v["ea_up"], ea_sigma=v["ea_sigma"], tau0=10.0 ** v["log10_tau0"],
                   alpha=v["alpha"], beta=v["beta"], v_imp=v["v_imp"])


SCALES = {"v_imp": 0.1, "p_offset": 1.0, "mw_0": 0.1}
"""Natural scales of parameters that may sit near zero (V, uC/cm^2, V), for relative stderrs."""
CV_FOLDS = 5
"""Folds of the cross-validation of a table fit (rows assigned by a fixed permutation, seed 0)."""


def _fit(make, x, data_y, start: dict, free: dict, base: FerroParams, max_nfev: int) -> KineticsFit:
    import lmfit

    model_fn = make(*x)
    params = lmfit.Parameters()
    for name, value in start.items():
        lo, hi, vary = free.get(name, (-np.inf, np.inf, False))
        params.add(name, value=min(max(value, lo), hi), min=lo, max=hi, vary=vary)

    def resid(p):
        return model_fn(p.valuesdict()) - data_y

    out = lmfit.minimize(resid, params, method="leastsq", max_nfev=max_nfev)
    v = out.params.valuesdict()
    model = model_fn(v)
    stderr = {k: (float(out.params[k].stderr) if out.params[k].stderr is not None else None)
              for k in out.params if out.params[k].vary}
    return KineticsFit(_ferro(v, base), dict(v), stderr, goodness(model, data_y), model, out.params)


def _best(make, x, y, start, free, base, max_nfev, starts) -> KineticsFit:
    best = None
    for s in starts:  # a few starts: the Ea / tau0 / alpha valley is long
        res = _fit(make, x, y, {**start, **s}, free, base, max_nfev)
        if best is None or res.metrics["rmse"] < best.metrics["rmse"]:
            best = res
    return best


def _cross_validate(make, x, y, fit: KineticsFit, free, base, max_nfev,
                    folds: int = CV_FOLDS) -> tuple[float, dict[str, float]]:
    """``folds``-fold cross-validation, each fold refitted from the full fit.

    Returns the RMSE on held-out rows and the delete-a-group jackknife stderr of every varied parameter,
    ``sqrt((g-1)/g sum (theta_i - mean)^2)``: unlike lmfit's covariance it sees model-data mismatch.
    """
    n = len(y)
    fold = np.empty(n, dtype=int)
    fold[np.random.default_rng(0).permutation(n)] = np.arange(n) % folds
    sq = np.empty(n)
    est = []
    for f in range(folds):
        train = fold != f
        res = _fit(make, tuple(a[train] for a in x), y[train], fit.values, free, base, max_nfev)
        sq[~train] = (make(*(a[~train] for a in x))(res.values) - y[~train]) ** 2
        est.append(res.values)
    varied = [k for k in fit.stderr]
    jk = {k: float(np.sqrt((folds - 1) / folds * np.sum((np.array([e[k] for e in est]) -
                                                           np.mean([e[k] for e in est])) ** 2))) for k in varied}
    return float(np.sqrt(np.mean(sq))), jk


def coverage(pw, amp) -> dict[str, str]:
    """Parameters a pulse table cannot determine -> the measurement that would pin them."""
    out = {}
    if len(np.unique(pw)) < 3:
        why = "pulses of at least three widths (the switching-time shape)"
        out.update({"log10_tau0": why, "beta": why})
    if len(np.unique(amp)) < 2:
        out["alpha"] = "pulses of several amplitudes (the field dependence of the Merz law)"
    return out


def _finish(res: KineticsFit, make, x, y, free, base, max_nfev, cv: bool) -> KineticsFit:
    """Cross-validate (widening stderrs to the fold spread where larger), then attach the warnings."""
    from .warnings import fit_warnings, generalization_warning

    extra = []
    if cv and len(y) >= 4 * CV_FOLDS:
        res.metrics["cv_rmse"], jk = _cross_validate(make, x, y, res, free, base, max_nfev)
        res.metrics["cv_folds"] = CV_FOLDS
        for k, e in jk.items():
            if res.stderr.get(k) is None or e > res.stderr[k]:
                res.stderr[k] = e
                res.params[k].stderr = e
        w = generalization_warning(res.metrics["rmse"], res.metrics["cv_rmse"])
        extra = [w] if w else []
    res.warnings = fit_warnings(res.params, undetermined=coverage(x[0], x[1]), scales=SCALES) + extra
    return res


def fit_one_pulse(pw, amp, p_uc, n_domains: int = 128, dist: str = "gaussian", beta_free: bool = True,
                  dielectric: bool = False, offset: bool = True, max_nfev: int = 2000,
                  cv: bool = True) -> KineticsFit:
    """Fit switched polarization ``p_uc`` [uC/cm^2] after one pulse of width ``pw`` [s] and amplitude ``amp`` [V].

    Free: Ps, Ea centre and spread, log10 tau0, alpha, beta (unless ``beta_free=False``), imprint, and
    (``offset``) a constant ``p_offset`` [uC/cm^2]: the saturated states of real HZO are not symmetric
    (non-switching or pinned regions, the measurement baseline), so P runs from -Ps + p_offset to
    Ps + p_offset; with ``dielectric`` also eps_r of a linear term ``eps0 eps_r amp / t_fe``.
    ``metrics['cv_rmse']``: 5-fold cross-validated RMSE (``cv``); ``warnings`` from
    :func:`fefet_spice.fit.warnings.fit_warnings`.
    """
    pw, amp, p_uc = (np.asarray(a, float) for a in (pw, amp, p_uc))
    base = FerroParams(n_domains=n_domains, ea_dist=dist)
    ps0 = max(float(np.max(np.abs(p_uc))) / 100.0, 0.01)
    sig0 = 0.3 if dist == "lognormal" else 2.0
    start = {"ps": ps0, "ea_up": 8.0, "ea_sigma": sig0, "log10_tau0": -12.0, "alpha": 2.0, "beta": 1.0,
             "v_imp": 0.0, "eps_r": 0.0, "p_offset": 0.0}
    free = {"ps": (1e-3, 2.0, True), "ea_up": (0.1, 100.0, True),
            "ea_sigma": (1e-3, 2.0 if dist == "lognormal" else 50.0, True),
            "log10_tau0": (-20.0, -4.0, True), "alpha": (0.3, 6.0, True), "beta": (0.2, 5.0, beta_free),
            "v_imp": (-2.0, 2.0, True), "eps_r": (0.0, 200.0, dielectric),
            "p_offset": (-0.5 * ps0 * 100.0, 0.5 * ps0 * 100.0, offset)}

    def make(amp_, pw_):
        def model(v):
            fp = _ferro(v, base)
            p = one_pulse_polarization(fp, amp_, pw_) + EPS0 * v["eps_r"] * amp_ / base.t_fe
            return 100.0 * p + v["p_offset"]  # C/m^2 -> uC/cm^2
        return model

    starts = [{"ea_up": e} for e in (6.0, 10.0, 16.0)]
    res = _best(make, (amp, pw), p_uc, start, free, base, max_nfev, starts)
    return _finish(res, make, (amp, pw), p_uc, free, base, max_nfev, cv)


def fit_memory_window(pw, amp, mw, n_domains: int = 128, dist: str = "gaussian", beta_free: bool = True,
                      max_nfev: int = 2000, cv: bool = True) -> KineticsFit:
    """Fit a FeFET memory window ``mw`` [V] after one pulse (``pw`` [s], ``amp`` [V]) from the erased state:
    ``MW = MW_max (P/Ps + 1)/2 + MW_0`` with the same switching model (Ps fixed at 1, it cancels)."""
    pw, amp, mw = (np.asarray(a, float) for a in (pw, amp, mw))
    base = FerroParams(n_domains=n_domains, ea_dist=dist)
    start = {"ps": 1.0, "ea_up": 8.0, "ea_sigma": 0.1 if dist == "lognormal" else 1.0, "log10_tau0": -12.0, "alpha": 2.0, "beta": 1.0,
             "v_imp": 0.0, "mw_max": float(np.ptp(mw)), "mw_0": float(np.min(mw))}
    free = {"ea_up": (0.1, 100.0, True), "ea_sigma": (1e-3, 2.0 if dist == "lognormal" else 50.0, True),
            "log10_tau0": (-20.0, -4.0, True), "alpha": (0.3, 6.0, True), "beta": (0.2, 5.0, beta_free), "mw_max": (0.0, 20.0, True),
            "mw_0": (-5.0, 5.0, True)}

    def make(amp_, pw_):
        def model(v):
            p = one_pulse_polarization(_ferro(v, base), amp_, pw_)
            return v["mw_max"] * 0.5 * (p + 1.0) + v["mw_0"]
        return model

    starts = [{"ea_up": e} for e in (6.0, 10.0, 16.0)]
    res = _best(make, (amp, pw), mw, start, free, base, max_nfev, starts)
    return _finish(res, make, (amp, pw), mw, free, base, max_nfev, cv)


def table_fit(path: str | os.PathLike, kind: str, dist: str = "lognormal", beta_free: bool = True):
    """Read a published table and fit it: ``kind`` 'one_pulse' (pw, amp, P [uC/cm^2]) or 'mw' (PW, AMP, MW [V]).

    Column names follow :data:`COLUMN_ALIASES` (``Pr``/``P``, ``pw``/``PW``, ``amp``/``AMP``, units in the
    header). Returns the fit, the table and the abscissa names.
    """
    names = ("pw", "amp", "P") if kind == "one_pulse" else ("PW", "AMP", "MW")
    t = read_table(path, names)
    n_free = (8 if kind == "one_pulse" else 7) - (0 if beta_free else 1)
    n = len(t[names[0]])
    if n <= n_free:
        raise DataError(f"{path}: {n} data rows; the fit has {n_free} free parameters and needs more rows than that")
    fit = fit_one_pulse if kind == "one_pulse" else fit_memory_window
    try:
        res = fit(t[names[0]], t[names[1]], t[names[2]], dist=dist, beta_free=beta_free)
    except (ValueError, TypeError) as e:
        raise DataError(f"{path}: the kinetics fit failed on these data ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return res, t, names


def table_document(res: KineticsFit, kind: str, base, files, name: str, base_source: str = "--base") -> dict:
    """``fefet-fit/1`` document of a table fit; ``device`` is ``base`` with the fitted switching kinetics.

    ``held`` names every device parameter the table does not fit and where its value comes from;
    ``warnings`` are :attr:`KineticsFit.warnings`.
    """
    from ..params import to_dict
    from .report import SCHEMA, _clean, sha256

    fe = replace(base.ferro, ea_up=res.ferro.ea_up, ea_dn=res.ferro.ea_up, ea_sigma=res.ferro.ea_sigma,
                 ea_dist=res.ferro.ea_dist, tau0=res.ferro.tau0, alpha=res.ferro.alpha, beta=res.ferro.beta,
                 v_imp=res.ferro.v_imp, ps=res.ferro.ps if kind == "one_pulse" else base.ferro.ps)
    dev = replace(base, name=name, ferro=fe, mw=res.values.get("mw_max", base.mw))
    unit = "uC/cm^2" if kind == "one_pulse" else "V"
    varied = [k for k in res.params if res.params[k].vary] if res.params is not None else list(res.stderr)
    params = {k: {"value": float(res.values[k]), "stderr": _clean(res.stderr.get(k))} for k in varied}
    held = {"ea_dn": "set to the fitted ea_up (the table switches up only; ea_dn needs a down-switching "
                     "measurement)",
            "ea_corr, n_domains, eps_r, t_fe, area, channel, vt_mid": base_source}
    if kind == "mw":
        held["ps"] = base_source
    if res.params is not None and "beta" in res.params and not res.params["beta"].vary:
        held["beta"] = f"held at {res.values['beta']:g} (--beta-fixed)"
    metrics = {k: _clean(v) for k, v in res.metrics.items()}
    return {"schema": SCHEMA, "name": name, "device": to_dict(dev), "parameters": params,
            "metrics": {kind: {**metrics, "unit": unit}}, "correlations": _correlations(res),
            "held": held, "warnings": list(res.warnings), "data_files": {str(f): sha256(f) for f in files}}


def _correlations(res: KineticsFit) -> dict:
    if res.params is None:
        return {}
    return {"table": {k: {j: round(float(c), 4) for j, c in (res.params[k].correl or {}).items()}
                      for k in res.params if res.params[k].vary}}


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
