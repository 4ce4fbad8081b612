"""Charge of a metal-ferroelectric-metal (MFM) capacitor under an arbitrary V(t) (pure numpy).

``Q(t) = Ps <s>(t) + eps0 eps_r V(t) / t_fe + q_rev tanh(V(t) / v_rev) + g_leak * integral(V dt) + q_offset``
[C/m^2]

``<s>`` is the mean domain state of the multi-domain Preisach / NLS model of :mod:`.ferro` (SPEC 1.1),
carried through the whole waveform with its own history. The trace is treated as piecewise constant
between samples: sample interval ``k`` (from ``t[k-1]`` to ``t[k]``) holds the mean of its end voltages.
Within a run of one drive sign the update is the same as :class:`.simulate.DomainEngine`'s (switching
progress ``h`` accumulates, ``s = s0 + (d - s0)(1 - exp(-h^beta))``, restarting when the direction of
switching changes; a run too weak to switch anything keeps the direction),
but vectorised over the samples of the run with a cumulative sum, so a 10^4-sample trace costs a few ms.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParamError
from ..params import FerroParams, _check_number
from .ferro import EXP_CAP, V_EPS, domain_activation, imprint_levels

EPS0 = 8.8541878128e-12
"""Vacuum permittivity [F/m]."""
SCHEMA = "fefet-capacitor"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CapacitorParams:
    """What a two-terminal MFM capacitor adds to :class:`~fefet_spice.params.FerroParams` (per unit area)."""

    g_leak: float = 0.0
    """Leakage conductance per area [S/m^2]; its charge ``g_leak * integral(V dt)`` adds to Q (>= 0)."""
    q_offset: float = 0.0
    """Constant charge offset per area [C/m^2] (the integration constant of a measured Q trace)."""
    p_init: float = 1.0
    """Initial state of every domain, P/Ps at t = 0 [-]: +1 saturated up, -1 saturated down."""

    def __post_init__(self) -> None:
        _check_number("capacitor.g_leak", self.g_leak, 0.0, 1e6)
        _check_number("capacitor.q_offset", self.q_offset, -10.0, 10.0)
        _check_number("capacitor.p_init", self.p_init, -1.0, 1.0)


def capacitor_to_dict(cp: CapacitorParams) -> dict[str, Any]:
    """Versioned JSON form of ``cp``."""
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "params": dataclasses.asdict(cp)}


def capacitor_from_dict(data: Any) -> CapacitorParams:
    """Inverse of :func:`capacitor_to_dict`; rejects other schemas, versions and unknown keys."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ParamError(f"capacitor: expected an object with schema {SCHEMA!r}")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ParamError(f"capacitor.schema_version: this fefet_spice reads version {SCHEMA_VERSION}, "
                         f"got {data.get('schema_version')!r}")
    body = data.get("params")
    if not isinstance(body, dict):
        raise ParamError("capacitor.params: expected an object")
    known = {f.name for f in dataclasses.fields(CapacitorParams)}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ParamError(f"unknown parameter capacitor.{unknown[0]} (known: {', '.join(sorted(known))})")
    return CapacitorParams(**body)


def interval_drive(t, v) -> tuple[np.ndarray, np.ndarray]:
    """Durations [s] and mean voltages [V] of the ``len(t) - 1`` intervals between samples."""
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    return np.diff(t), 0.5 * (v[1:] + v[:-1])


def _runs(sign: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs ``(start, stop, direction)`` of equal non-zero ``sign`` (zeros join no run)."""
    idx = np.flatnonzero(sign)
    if not len(idx):
        return []
    d = sign[idx]
    cut = np.flatnonzero(np.diff(d)) + 1
    starts = np.concatenate(([0], cut))
    stops = np.concatenate((cut, [len(idx)]))
    return [(int(idx[a]), int(idx[b - 1]) + 1, int(d[a])) for a, b in zip(starts, stops)]


def domain_history(fp: FerroParams, t, v, s_init=1.0, ea=None) -> np.ndarray:
    """Domain states after every sample, shape (len(t), n_domains), starting from ``s_init``.

    ``ea`` optionally gives precomputed ``(ea_up, ea_dn)`` (e.g. from :func:`.ferro.domain_activation`).
    Each imprint group (``imp_n`` of them, :func:`.ferro.imprint_levels`) runs with its own drive
    ``V - V_imp,g``.
    """
    ea_up, ea_dn = domain_activation(fp) if ea is None else ea
    dt, vm = interval_drive(t, v)
    s = np.broadcast_to(np.asarray(s_init, dtype=float), ea_up.shape).copy()
    levels = imprint_levels(fp)
    n = len(ea_up) // len(levels)
    out = np.empty((len(dt) + 1, len(ea_up)))
    for g, vimp in enumerate(levels):
        sl = slice(g * n, (g + 1) * n)
        out[:, sl] = _group_history(fp, dt, vm - vimp, s[sl], ea_up[sl], ea_dn[sl])
    return out


def _group_history(fp: FerroParams, dt, x, s, ea_up, ea_dn) -> np.ndarray:
    """States of domains sharing one imprint under drive ``x = V - V_imp`` per interval.

    The progress of a run is computed in place in one (samples x domains) buffer (the same numbers as
    :func:`.ferro.log_rate` and :func:`.ferro.switched_fraction`: ``(Ea/x)^alpha`` as
    ``exp(alpha ln(Ea/x))``); fits call this thousands of times, and fresh temporaries per step cost as
    much system time as the arithmetic."""
    sign = np.sign(x).astype(int)
    out = np.empty((len(dt) + 1, len(ea_up)))
    out[0] = s
    s0, h0, direction, last = s.copy(), np.zeros_like(s), 0, 0
    ln_up, ln_dn = np.log(ea_up), np.log(ea_dn)
    ln_x = -np.log(np.maximum(np.abs(x), V_EPS))
    ln_dt = np.log(dt) - np.log(fp.tau0)
    for a, b, d in _runs(sign):
        out[last + 1:a + 1] = s  # zero-drive intervals: nothing switches
        last = b
        buf = np.add.outer(ln_x[a:b], ln_up if d > 0 else ln_dn)  # ln(Ea / |x|)
        buf *= fp.alpha
        np.exp(buf, out=buf)
        np.minimum(buf, EXP_CAP, out=buf)  # the capped exponent of log_rate
        np.subtract(ln_dt[a:b, None], buf, out=buf)  # ln(r dt)
        np.minimum(buf, EXP_CAP, out=buf)
        np.exp(buf, out=buf)  # progress r dt of every interval
        if not np.any(buf > 1e-17):  # as DomainEngine: a run that switches nothing keeps the direction
            out[a + 1:b + 1] = s
            continue
        if d != direction:
            s0, h0, direction = s.copy(), np.zeros_like(s), d
        np.cumsum(buf, axis=0, out=buf)
        buf += h0
        h_end = buf[-1].copy()
        if fp.beta != 1.0:
            np.power(buf, fp.beta, out=buf)
        np.minimum(buf, EXP_CAP, out=buf)
        np.negative(buf, out=buf)
        np.expm1(buf, out=buf)  # -(switched fraction)
        buf *= -(d - s0)
        buf += s0
        out[a + 1:b + 1] = buf
        s, h0 = out[b].copy(), h_end
    out[last + 1:] = s
    return out


def polarization(fp: FerroParams, t, v, s_init=1.0, ea=None) -> np.ndarray:
    """Switched (remanent) polarization Ps <s> after every sample [C/m^2]."""
    return fp.ps * domain_history(fp, t, v, s_init, ea).mean(axis=1)


def dielectric_charge(fp: FerroParams, v) -> np.ndarray:
    """Non-switching charge [C/m^2]: linear dielectric ``eps0 eps_r V / t_fe`` plus the saturating
    reversible polarization ``q_rev tanh(V / v_rev)`` (zero by default)."""
    v = np.asarray(v, dtype=float)
    q = EPS0 * fp.eps_r * v / fp.t_fe
    if fp.q_rev > 0.0:
        q = q + fp.q_rev * np.tanh(v / fp.v_rev)
    return q


def leakage_charge(g_leak: float, t, v) -> np.ndarray:
    """Charge ``g_leak * integral(V dt)`` from t[0] [C/m^2] (trapezoidal)."""
    dt, vm = interval_drive(t, v)
    return g_leak * np.concatenate(([0.0], np.cumsum(vm * dt)))


def charge(fp: FerroParams, cp: CapacitorParams, t, v, ea=None) -> np.ndarray:
    """Total charge per area Q(t) [C/m^2] of an MFM capacitor driven by ``v`` [V] at times ``t`` [s].

    Parameters
    ----------
    fp : FerroParams
        Ferroelectric (switching kinetics, Ps, eps_r, t_fe).
    cp : CapacitorParams
        Leakage, offset and initial state.
    t, v : array_like, shape (K,)
        Sample times (strictly increasing) and voltages of the waveform.
    ea : tuple of ndarray, optional
        Precomputed activation voltages.
    """
    return (polarization(fp, t, v, cp.p_init, ea) + dielectric_charge(fp, v)
            + leakage_charge(cp.g_leak, t, v) + cp.q_offset)


def initial_state_from_charge(fp: FerroParams, cp: CapacitorParams, q0: float, v0: float) -> float:
    """P/Ps at t = 0 that explains a measured first charge ``q0`` [C/m^2] at ``v0`` [V], clipped to [-1, 1]."""
    p = (q0 - cp.q_offset - float(dielectric_charge(fp, v0))) / fp.ps
    return float(np.clip(p, -1.0, 1.0))
