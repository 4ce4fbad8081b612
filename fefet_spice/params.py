"""Frozen, validated parameter classes of the FeFET compact model (SI units).

Every field carries a docstring with its unit in brackets. Instances are immutable; derive variants
with :func:`dataclasses.replace`. :func:`to_dict` / :func:`from_dict` give a versioned JSON form that
rejects unknown keys and other schema versions, naming the offending field.

The same objects drive the numpy model (:mod:`fefet_spice.model`) and the ngspice netlists
(:mod:`fefet_spice.spice`): there is one source of truth for the device equations.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import ParamError

SCHEMA = "fefet-params"
SCHEMA_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
EA_DISTS = ("gaussian", "lognormal")


def _check_number(path: str, value: Any, lo: float | None = None, hi: float | None = None,
                  lo_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{path}: expected a number, got {value!r}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise ParamError(f"{path}: must be finite, got {value!r}")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ParamError(f"{path}: must be {'>' if lo_open else '>='} {lo:g}, got {value!r}")
    if hi is not None and value > hi:
        raise ParamError(f"{path}: must be <= {hi:g}, got {value!r}")


def check_name(path: str, value: Any) -> str:
    """Validate an identifier that may end up in a netlist (letters, digits, underscore)."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):  # fullmatch: '$' would admit a final '\n'
        raise ParamError(f"{path}: must match {NAME_RE.pattern} (letters, digits, '_'), got {value!r}")
    return value


@dataclass(frozen=True)
class FerroParams:
    """Multi-domain Preisach ferroelectric with nucleation-limited switching (SPEC 1.1)."""

    n_domains: int = 64
    """Number of domains (hysterons) [-]; activation voltages are Gaussian/log-normal quantiles."""
    ps: float = 0.20
    """Saturation (spontaneous) polarization Ps [C/m^2] (0.20 C/m^2 = 20 uC/cm^2)."""
    ea_up: float = 16.0
    """Median activation voltage for up-switching Ea_up [V] (Merz law, referred to the gate drive)."""
    ea_dn: float = 16.0
    """Median activation voltage for down-switching Ea_dn [V] (magnitude)."""
    ea_sigma: float = 1.0
    """Spread of Ea across domains: std [V] (gaussian) or std of ln(Ea) [-] (lognormal)."""
    ea_dist: str = "gaussian"
    """Distribution of Ea across domains: 'gaussian' or 'lognormal'."""
    ea_corr: float = 1.0
    """Correlation of a domain's up and down activation quantiles [-], in [-1, 1]."""
    ea_cond: int = 1
    """Down-activation quantiles per up quantile [-]: 1 pairs every up quantile with one down quantile
    (a fixed permutation); m > 1 lays the domains on an (n_domains / m) x m grid of the bivariate
    (up, down) distribution, every up quantile with m conditional down quantiles (a Preisach density)."""
    ea_sigma_dn: float = 0.0
    """Spread of the down activation [V or -]; 0 = the same as ea_sigma."""
    imp_n: int = 1
    """Imprint (bias-field) levels [-]: 1 = one imprint v_imp for every domain; k > 1 splits the domains
    into k equal groups with imprints at the k Gaussian quantiles of mean v_imp and spread imp_sigma
    (the interaction-field axis of a Preisach density: a domain may switch back before V crosses v_imp)."""
    imp_sigma: float = 0.0
    """Spread of the imprint across domain groups [V] (used when imp_n > 1)."""
    q_rev: float = 0.0
    """Saturating reversible (non-switching) polarization amplitude [C/m^2]: adds q_rev tanh(V / v_rev)
    to the linear dielectric charge; 0 = linear dielectric only."""
    v_rev: float = 1.0
    """Voltage scale of the reversible polarization [V]."""
    v_imp: float = 0.0
    """Imprint voltage V_imp [V]: the drive at which neither direction switches."""
    alpha: float = 2.0
    """Merz-law exponent alpha [-]: r = exp(-(Ea/V)^alpha)/tau0."""
    beta: float = 1.0
    """KAI/NLS stretch exponent beta [-]; switched fraction 1 - exp(-h^beta). 1 = simple exponential."""
    tau0: float = 1e-12
    """Attempt time tau0 [s]."""
    eps_r: float = 35.0
    """Linear (background) relative permittivity of HZO [-]."""
    t_fe: float = 10e-9
    """Ferroelectric thickness [m]."""
    area: float = 1e-12
    """Ferroelectric capacitor area [m^2]; sets switching charge 2 Ps A and gate capacitance."""

    def __post_init__(self) -> None:
        _validate(self, "ferro")


@dataclass(frozen=True)
class ChannelParams:
    """Charge-based n-type monolayer MoS2 channel, EKV-style (SPEC 1.2)."""

    n_ss: float = 1.5
    """Subthreshold slope factor n [-]: SS = n * ln(10) * kT/q."""
    mu0: float = 5e-4
    """Low-field mobility mu0 [m^2/(V s)] (5e-4 = 5 cm^2/Vs)."""
    cox: float = 1.47e-2
    """Gate-stack capacitance per area seen by the channel C_ox [F/m^2] (12 nm HfO2)."""
    width: float = 1e-6
    """Channel width W [m]."""
    length: float = 2e-6
    """Channel length L [m]."""
    theta: float = 0.1
    """Mobility degradation theta [1/V]: mu_eff = mu0 / (1 + theta S softplus((Vg - Vt)/S)), S = 2 n kT/q."""
    r_contact: float = 2e3
    """Total series contact resistance [ohm], split equally between source and drain."""
    g_floor: float = 1e-13
    """Off-state conductance floor [S] in parallel with the channel."""
    amb_ratio: float = 0.0
    """Ambipolar (hole) branch strength relative to I_s [-]; 0 disables it."""
    vt_amb: float = -3.0
    """Threshold of the ambipolar hole branch [V] (used only when amb_ratio > 0)."""
    temperature: float = 300.0
    """Temperature [K]."""

    def __post_init__(self) -> None:
        _validate(self, "channel")


@dataclass(frozen=True)
class OperatingPoint:
    """Read and write conditions of the device in a cell."""

    v_read_g: float = 1.0
    """Gate voltage during a read [V]."""
    v_read_d: float = 0.1
    """Drain voltage during a read V_D [V]."""
    t_read: float = 1e-6
    """Read duration [s]."""
    v_pulse_up: float = 3.6
    """Amplitude of an identical potentiation (up) pulse [V] (> 0)."""
    v_pulse_dn: float = -3.6
    """Amplitude of an identical depression (down) pulse [V] (< 0)."""
    t_pulse: float = 1e-6
    """Width of one write pulse [s]."""
    t_gap: float = 1e-6
    """Idle time at 0 V after each pulse [s]."""

    def __post_init__(self) -> None:
        _validate(self, "op")


@dataclass(frozen=True)
class FeFETParams:
    """A ferroelectric FET: ferroelectric + channel + coupling + variation (SPEC 1.3)."""

    name: str = "fefet"
    """Identifier (also the SPICE subcircuit name): letters, digits, underscore."""
    ferro: FerroParams = field(default_factory=FerroParams)
    """Ferroelectric stack."""
    channel: ChannelParams = field(default_factory=ChannelParams)
    """MoS2 channel."""
    vt_mid: float = 0.5
    """Threshold voltage at zero net polarization Vt_mid [V]."""
    mw: float = 2.0
    """Memory window MW [V]: Vt = Vt_mid - (MW/2) P/Ps."""
    sigma_ea_d2d: float = 0.0
    """Device-to-device relative shift of all activation voltages (std) [-]."""
    sigma_vt_d2d: float = 0.0
    """Device-to-device threshold shift (std) [V]."""
    sigma_c2c: float = 0.0
    """Cycle-to-cycle jitter: std of ln(effective pulse duration) per device and segment [-]."""
    read_noise: float = 0.0
    """Read noise: std of the conductance read at V_D [S]."""
    op: OperatingPoint = field(default_factory=OperatingPoint)
    """Read and write conditions."""

    def __post_init__(self) -> None:
        check_name("name", self.name)
        _validate(self, "")

    @property
    def p_norm_to_vt(self) -> float:
        """dVt / d(P/Ps) [V]."""
        return -0.5 * self.mw


# (lower bound, open?, upper bound) per numeric field; None = unbounded.
_BOUNDS: dict[str, tuple[float | None, bool, float | None]] = {
    "n_domains": (1, False, 4096), "ps": (0.0, True, 10.0), "ea_up": (0.0, True, 1e3),
    "ea_dn": (0.0, True, 1e3), "ea_sigma": (0.0, False, 1e2), "ea_corr": (-1.0, False, 1.0),
    "v_imp": (-100.0, False, 100.0),
    "ea_cond": (1, False, 64), "imp_n": (1, False, 64), "imp_sigma": (0.0, False, 10.0), "ea_sigma_dn": (0.0, False, 1e2), "q_rev": (0.0, False, 10.0), "v_rev": (1e-3, False, 100.0),
    "alpha": (0.0, True, 10.0), "beta": (0.2, False, 5.0), "tau0": (1e-30, False, 1.0),
    "eps_r": (1.0, False, 1e4), "t_fe": (1e-10, False, 1e-3), "area": (1e-20, False, 1.0),
    "n_ss": (1.0, False, 1e3), "mu0": (1e-12, False, 10.0), "cox": (1e-8, False, 1e3),
    "width": (1e-10, False, 1.0), "length": (1e-10, False, 1.0), "theta": (0.0, False, 1e3),
    "r_contact": (0.0, False, 1e15), "g_floor": (0.0, False, 1.0), "amb_ratio": (0.0, False, 1e6),
    "vt_amb": (-100.0, False, 100.0),
    "temperature": (1.0, False, 1000.0), "t_read": (0.0, True, 1.0), "t_pulse": (1e-12, False, 1.0),
    "t_gap": (0.0, False, 10.0), "v_pulse_up": (0.0, True, 100.0), "v_pulse_dn": (-100.0, False, 0.0),
    "v_read_g": (-100.0, False, 100.0), "v_read_d": (-100.0, False, 100.0),
    "vt_mid": (-100.0, False, 100.0), "mw": (0.0, False, 100.0), "sigma_ea_d2d": (0.0, False, 0.5),
    "sigma_vt_d2d": (0.0, False, 10.0), "sigma_c2c": (0.0, False, 3.0), "read_noise": (0.0, False, 1.0),
}
"""Physical plausibility: beyond these a device is not an HZO/MoS2 FeFET and the model's numbers overflow
(a channel 1e300 m wide, a memory window of 1e300 V, a film 1e-300 m thin)."""


def _validate(obj: Any, prefix: str) -> None:
    for f in fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}.{f.name}" if prefix else f.name
        if dataclasses.is_dataclass(value) or f.name == "name":
            continue
        if f.name == "ea_dist":
            if value not in EA_DISTS:
                raise ParamError(f"{path}: must be one of {EA_DISTS}, got {value!r}")
            continue
        if f.name in ("n_domains", "ea_cond", "imp_n") and (isinstance(value, bool) or not isinstance(value, int)):
            raise ParamError(f"{path}: expected an integer, got {value!r}")
        lo, lo_open, hi = _BOUNDS.get(f.name, (None, False, None))
        _check_number(path, value, lo, hi, lo_open)
    if isinstance(obj, FerroParams) and obj.n_domains % (obj.ea_cond * obj.imp_n):
        raise ParamError(f"{prefix}.n_domains: must be a multiple of ea_cond * imp_n = {obj.ea_cond * obj.imp_n}, "
                         f"got {obj.n_domains}")
    if isinstance(obj, OperatingPoint) and obj.v_pulse_dn >= 0:
        raise ParamError(f"{prefix}.v_pulse_dn: must be < 0, got {obj.v_pulse_dn!r}")
    if isinstance(obj, FeFETParams):
        _check_derived(obj)


def _check_derived(p: "FeFETParams") -> None:
    """Quantities derived from several fields must be finite and positive (each field alone is in range)."""
    ch, fe = p.channel, p.ferro
    derived = {"channel.mu0 x channel.cox x channel.width / channel.length (channel conductance scale)":
               ch.mu0 * ch.cox * ch.width / ch.length,
               "ferro.eps_r x ferro.area / ferro.t_fe (ferroelectric capacitance)": 8.854e-12 * fe.eps_r * fe.area / fe.t_fe,
               "2 x ferro.ps x ferro.area (switched charge)": 2 * fe.ps * fe.area}
    for what, value in derived.items():
        if not (math.isfinite(value) and 0 < value < 1e6):
            raise ParamError(f"{what} = {value!r} is not a plausible finite value")


FERRO_EXTRAS = {"ea_cond": 1, "ea_sigma_dn": 0.0, "imp_n": 1, "imp_sigma": 0.0, "q_rev": 0.0, "v_rev": 1.0}
"""Ferroelectric fields added after schema version 1: optional in a file, written only when they differ
from these defaults (which reproduce the earlier model exactly), so older files keep their bytes."""

OPTIONAL = frozenset({*(f"ferro.{k}" for k in FERRO_EXTRAS), "sigma_ea_d2d", "sigma_vt_d2d", "sigma_c2c", "read_noise", "channel.amb_ratio",
                      "channel.vt_amb"})
"""Fields a parameter file may leave out: variation, noise and the ambipolar branch (default: none).
Every other field must be given; a missing one is an error, never a silent default."""

_NESTED = {"ferro": FerroParams, "channel": ChannelParams, "op": OperatingPoint}


def to_dict(params: FeFETParams) -> dict[str, Any]:
    """JSON-ready dict with schema tag and version; keys sorted for deterministic output."""
    body = dataclasses.asdict(params)
    ferro = body.get("ferro")
    if isinstance(ferro, dict):
        for k, default in FERRO_EXTRAS.items():
            if ferro.get(k) == default:
                del ferro[k]
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "params": body}


def _build(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise ParamError(f"{path or 'params'}: expected an object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f"{path}." if path else ""
        raise ParamError(f"unknown parameter {where}{unknown[0]!r} (known: {', '.join(sorted(known))})")
    if "name" in data and cls is FeFETParams:
        check_name("name", data["name"])  # a bad name is the first thing to report (it reaches netlists)
    missing = [k for k in sorted(known - set(data)) if f"{path}.{k}".lstrip(".") not in OPTIONAL]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = f"{path}.{key}" if path else key
        if key in _NESTED and cls is FeFETParams:
            kwargs[key] = _build(_NESTED[key], value, sub)
        else:
            if key in ("n_domains", "ea_cond", "imp_n") and isinstance(value, float) and value.is_integer():
                value = int(value)
            kwargs[key] = value
    obj = cls(**kwargs)  # nested classes validate with their own path prefix; given values first
    if missing:
        where = f"{path}." if path else ""
        raise ParamError(f"missing parameter {where + missing[0]!r} (every field is required except "
                         f"{', '.join(sorted(OPTIONAL))})")
    return obj


def from_dict(data: Any) -> FeFETParams:
    """Inverse of :func:`to_dict`; checks schema and version, rejects unknown keys."""
    if not isinstance(data, dict):
        raise ParamError("parameter file: expected a JSON object")
    if data.get("schema") != SCHEMA:
        raise ParamError(f"schema: expected {SCHEMA!r}, got {data.get('schema')!r}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ParamError(f"schema_version: this fefet_spice reads version {SCHEMA_VERSION}, "
                         f"the file is version {version!r}")
    extra = sorted(set(data) - {"schema", "schema_version", "params"})
    if extra:
        raise ParamError(f"unknown top-level key {extra[0]!r}")
    return _build(FeFETParams, data.get("params"), "")
