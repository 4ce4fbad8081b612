"""What a set of FeFET measurements can determine: kinetics span, held parameters and their sources,
undetermined parameters with the measurement that would pin them, and the fit's warnings.

Used by :func:`fefet_spice.fit.extract.fit_device` (which parameters it frees) and by the fit report.
"""
from __future__ import annotations

import numpy as np

from .data import FitData

SPAN_MIN_LEVELS = 2
"""Pulse trains at this many distinct widths or amplitudes (of one polarity) free alpha and beta."""


def pulse_levels(data: FitData) -> tuple[set, set]:
    """Distinct up-pulse widths [s] and amplitudes [V] in the pulse trains (rows with a pulse)."""
    widths, amps = set(), set()
    for r in data.pulses:
        w = r.wave
        up = (w.kind == _pulse_code()) & (w.vg > 0)
        widths.update(float(x) for x in np.unique(w.dt[up]))
        amps.update(float(x) for x in np.unique(w.vg[up]))
    return widths, amps


def _pulse_code() -> int:
    from ..waveforms import KINDS

    return KINDS.index("pulse")


def kinetics_span(data: FitData) -> bool:
    """True when the pulse trains span several widths or amplitudes: alpha and beta can be fitted."""
    widths, amps = pulse_levels(data)
    return len(widths) >= SPAN_MIN_LEVELS or len(amps) >= SPAN_MIN_LEVELS


def _down_reversal(x: np.ndarray) -> bool:
    """A sweep that switches up, turns down and reverses upward again (an interior minimum after a maximum)."""
    d = np.sign(np.diff(x))
    d = d[d != 0]
    turns = np.flatnonzero(d[:-1] != d[1:])
    seen_max = False
    for t in turns:
        if d[t] > 0:
            seen_max = True
        elif seen_max:
            return True
    return False


def undetermined(data: FitData, kinetics_free: bool) -> dict[str, str]:
    """Fit parameters these data cannot determine -> the measurement that would pin each."""
    out = {}
    neg_pulses = any(np.any(r.wave.vg[r.wave.kind == _pulse_code()] < 0) for r in data.pulses)
    if not neg_pulses and not any(_down_reversal(r.x) for r in data.sweeps):
        out["vc_dn"] = ("a down-reversal sweep (up past switching, down to a partial reset, up again: a minor "
                        "loop) or pulse trains with negative pulses; an n-type channel is off while it switches down")
    if not data.pulses:
        why = "pulse trains (conductance after each pulse) at several widths or amplitudes"
        out.update({"log10_tau0": why, "alpha": why, "beta": why})
    elif not kinetics_free:
        why = "pulse trains at several pulse widths or amplitudes (one level cannot separate them from tau0)"
        out.update({"alpha": why, "beta": why})
    vds = {round(r.vd, 9) for r in data.sweeps}
    if not data.idvd and len(vds) < 2:
        why = "Id-Vd curves or Id-Vg sweeps at several drain biases"
        out.update({"r_contact": why, "theta": why})
    return out


def held(data: FitData, kinetics_free: bool, base_source: str) -> dict[str, str]:
    """Device parameters the fit does not vary -> where their values come from."""
    out = {"ps, eps_r, t_fe, area, n_domains, ea_dist, ea_corr, v_imp": base_source,
           "channel width, length, cox, temperature, amb_ratio, vt_amb": base_source,
           "op (operating point)": base_source,
           "dc_dwell": "the sweeps' median stair time"}
    if not kinetics_free:
        out["alpha, beta"] = f"{base_source} (the pulse trains do not span widths or amplitudes)" \
            if data.pulses else f"{base_source} (no pulse trains)"
    if not data.pulses:
        out["tau0"] = f"{base_source} (no pulse trains)"
    return out


def stage_warnings(stages, missing: dict[str, str]) -> list[dict]:
    """:func:`~fefet_spice.fit.warnings.fit_warnings` of every stage, each record tagged with its stage.

    A parameter varied in several stages is judged by the last of them (later stages refine earlier ones);
    a correlated pair by the last stage varying both. Parameters in ``missing`` (undetermined by the data)
    get one ``undetermined`` record instead of stderr-based ones.
    """
    from .warnings import fit_warnings, generalization_warning, undetermined_warnings

    last: dict[str, str] = {}
    for st in stages:
        for k in (st.params or {}):
            if st.params[k].vary:
                last[k] = st.name
    out, seen = [], set()
    for st in stages:
        if st.params is None:
            continue
        for w in fit_warnings(st.params, scales=SCALES):
            names = w.get("pair", [w["parameter"]])
            if any(last.get(n) != st.name for n in names) or w["message"] in seen:
                continue
            if w["kind"] in ("uncertain", "no_stderr") and w["parameter"] in missing:
                continue
            seen.add(w["message"])
            out.append({**w, "stage": st.name})
    for st in stages:
        if "heldout_rmse" in st.metrics:
            w = generalization_warning(float(st.metrics["rmse"]), float(st.metrics["heldout_rmse"]),
                                       label=f"{st.name}: {st.metrics['heldout']}", unit="of the G range")
            if w:
                out.append({**w, "stage": st.name})
    return out + [{**w, "stage": None} for w in undetermined_warnings(missing)]


SCALES = {"vt_mid": 0.1, "vt_hi": 0.1, "vt_lo": 0.1, "mw": 0.1, "theta": 0.05, "r_contact": 100.0}
"""Natural scales [V, V, V, V, 1/V, ohm] of fit parameters that may sit near zero (relative stderr)."""
