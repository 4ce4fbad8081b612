"""Transient simulation of FeFETs under piecewise-constant gate waveforms (numpy fast path).

Vectorized over devices and domains. For a constant drive over a segment the domain update is exact
(SPEC 1.1): ``s <- s_eq + (s - s_eq) exp(-(r_up + r_dn) dt)``; for ``beta != 1`` the switching
progress ``h`` accumulates and the switched fraction is ``1 - exp(-h^beta)``. A piecewise-constant
waveform has few distinct levels, so decay factors are computed once per (drive, duration) and reused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParamError
from ..params import FeFETParams, FerroParams
from ..waveforms import Waveform
from .ferro import domain_activation, log_rate, switched_fraction
from .reads import add_read_noise, channel_currents, conductances


@dataclass(frozen=True)
class DeviceSample:
    """Per-device draws of device-to-device variation."""

    ea_up: np.ndarray
    """Up activation voltages, shape (n_devices, n_domains) [V]."""
    ea_dn: np.ndarray
    """Down activation voltages, shape (n_devices, n_domains) [V]."""
    vt_shift: np.ndarray
    """Threshold shift per device, shape (n_devices,) [V]."""

    @property
    def n_devices(self) -> int:
        return self.ea_up.shape[0]


def sample_devices(params: FeFETParams, n_devices: int, rng: np.random.Generator) -> DeviceSample:
    """Draw device-to-device variation: a common relative Ea scale and a Vt shift per device."""
    ea_up, ea_dn = domain_activation(params.ferro)
    scale = np.ones((n_devices, 1))
    shift = np.zeros(n_devices)
    if params.sigma_ea_d2d > 0:
        scale = np.exp(params.sigma_ea_d2d * rng.standard_normal((n_devices, 1)))
    if params.sigma_vt_d2d > 0:
        shift = params.sigma_vt_d2d * rng.standard_normal(n_devices)
    return DeviceSample(ea_up=ea_up[None, :] * scale, ea_dn=ea_dn[None, :] * scale, vt_shift=shift)


def threshold_voltage(params: FeFETParams, p_norm, vt_shift=0.0):
    """Vt [V] = Vt_mid + shift - (MW/2) P/Ps (SPEC 1.3)."""
    return params.vt_mid + vt_shift - 0.5 * params.mw * np.asarray(p_norm)


class DomainState:
    """Mutable domain states of a batch of devices: ``s`` in [-1, 1] plus the beta != 1 bookkeeping."""

    def __init__(self, s: np.ndarray):
        self.s = np.array(s, dtype=float)
        self.s0 = self.s.copy()
        self.h = np.zeros_like(self.s)
        self.direction = 0

    @property
    def p_norm(self) -> np.ndarray:
        """Net polarization P/Ps per device (equal domain weights)."""
        return self.mean_into(np.empty(self.s.shape[:-1]))

    def mean_into(self, out: np.ndarray) -> np.ndarray:
        """P/Ps per device written to ``out``: one BLAS matrix-vector product with weights 1/n_domains."""
        w = getattr(self, "_w", None)
        if w is None or len(w) != self.s.shape[-1]:
            w = self._w = np.full(self.s.shape[-1], 1.0 / self.s.shape[-1])
        return np.matmul(self.s, w, out=out)


class DomainEngine:
    """Exact piecewise-constant domain update with a cache of per-level decay factors."""

    def __init__(self, fp: FerroParams, devices: DeviceSample, cache_size: int = 64):
        if fp.imp_n > 1 or fp.q_rev > 0.0:
            raise ParamError(f"the FeFET model carries one imprint and a linear dielectric; this ferroelectric has "
                             f"imp_n = {fp.imp_n} and q_rev = {fp.q_rev:g} (the capacitor model carries both)")
        self.fp = fp
        self.devices = devices
        self.cache_size = cache_size
        self._cache: dict[tuple[float, float], tuple] = {}
        self._active: dict[tuple[float, float], bool] = {}
        self._ea_min = (float(np.min(devices.ea_up)), float(np.min(devices.ea_dn)))

    def active(self, drive: float, dt: float) -> bool:
        """Whether a segment of ``drive`` [V] and ``dt`` [s] can move any domain.

        The fastest domain (smallest Ea) decides: below a progress of 1e-17, ``exp(-progress) == 1.0``
        in float64, so the segment is a no-op for every domain.
        """
        key = (float(drive), float(dt))
        hit = self._active.get(key)
        if hit is None:
            x = key[0] - self.fp.v_imp
            hit = False
            if x != 0.0:
                ea = self._ea_min[0] if x > 0 else self._ea_min[1]
                lr = float(log_rate(abs(x), ea, self.fp.alpha, self.fp.tau0)) + np.log(key[1])
                hit = bool(np.exp(min(lr, 80.0)) > 1e-17)
            if len(self._active) < 4096:
                self._active[key] = hit
        return hit

    def _scratch(self, shape) -> np.ndarray:
        """A reusable work array of ``shape`` (no allocation per segment)."""
        buf = getattr(self, "_buf", None)
        if buf is None or buf.shape != shape:
            buf = self._buf = np.empty(shape)
        return buf

    def _progress(self, drive: float, dt: float) -> tuple[int, np.ndarray]:
        """Direction (+1, -1, 0) and switching progress r*dt per device and domain."""
        fp = self.fp
        x = drive - fp.v_imp
        if x == 0.0:
            return 0, np.zeros(0)
        ea = self.devices.ea_up if x > 0 else self.devices.ea_dn
        lr = log_rate(abs(x), ea, fp.alpha, fp.tau0) + np.log(dt)
        return (1 if x > 0 else -1), np.exp(np.minimum(lr, 80.0))

    def _level(self, drive: float, dt: float) -> tuple:
        key = (float(drive), float(dt))
        hit = self._cache.get(key)
        if hit is None:
            d, prog = self._progress(drive, dt)
            noop = not self.active(drive, dt)
            a = np.exp(-prog) if (d and self.fp.beta == 1.0) else None
            hit = (d, prog, noop, a, None if a is None else d * (1.0 - a))
            if len(self._cache) < self.cache_size:
                self._cache[key] = hit
        return hit

    def apply(self, state: DomainState, drive: float, dt: float, jitter: np.ndarray | None = None) -> bool:
        """Advance ``state`` by a segment of constant ``drive`` [V] lasting ``dt`` [s].

        ``jitter`` (shape (n_devices, 1)) multiplies the progress: cycle-to-cycle variation.
        Returns False when the segment cannot change any domain (no drive, or rates below float resolution).
        """
        d, prog, noop, a, b = self._level(drive, dt)
        if noop:
            return False
        if self.fp.beta == 1.0:
            if jitter is None:
                state.s *= a
                state.s += b
            else:
                factor = self._scratch(state.s.shape)
                np.exp(np.multiply(prog, np.negative(jitter), out=factor), out=factor)
                state.s -= d
                state.s *= factor
                state.s += d
            return True
        if d != state.direction:
            state.s0 = state.s.copy()
            state.h = np.zeros_like(state.s)
            state.direction = d
        state.h += prog if jitter is None else prog * jitter
        state.s = state.s0 + (d - state.s0) * switched_fraction(state.h, self.fp.beta)
        return True


@dataclass(frozen=True)
class SimResult:
    """Result of :func:`simulate`; per-segment values are taken at the end of each segment."""

    t: np.ndarray
    """Time at the end of each segment, shape (K,) [s]."""
    vg: np.ndarray
    """Gate voltage, shape (K,) [V]."""
    vd: np.ndarray
    """Drain voltage, shape (K,) [V]."""
    v_fe: np.ndarray
    """Drive across the ferroelectric Vg - (Vs + Vd)/2, shape (K,) [V]."""
    p_norm: np.ndarray
    """Net polarization P/Ps, shape (n_devices, K) [-]."""
    ps: float
    """Saturation polarization Ps [C/m^2]."""
    id: np.ndarray
    """Drain current, shape (n_devices, K) [A] (read noise added on read segments)."""
    kind: np.ndarray
    """Segment kind codes (see :data:`fefet_spice.waveforms.KINDS`)."""
    pulse: np.ndarray
    """Pulse index per segment (-1 where none)."""
    g_after_pulse: np.ndarray | None
    """Conductance Id/V_D read after each pulse, shape (n_devices, n_pulses) [S]; None without reads."""
    g_initial: np.ndarray | None
    """Conductance of a read before the first pulse, shape (n_devices,) [S], if the waveform has one."""
    state: np.ndarray
    """Final domain states s, shape (n_devices, n_domains) [-]."""

    @property
    def polarization(self) -> np.ndarray:
        """Polarization Ps * P/Ps, shape (n_devices, K) [C/m^2] (formed on access)."""
        return self.ps * self.p_norm


def _as_rng(seed) -> np.random.Generator:
    """A Generator as given, else one seeded with ``seed`` (None means 0: every call is reproducible)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(0 if seed is None else seed)


JITTER_BLOCK = 256
"""Segments whose cycle-to-cycle jitter is drawn in one call (the same random stream as one call each)."""


def _jitter(rng: np.random.Generator, sigma: float, n_dev: int, n_seg: int):
    """Per-segment jitter factors exp(sigma N(0,1)), shape (n_dev, 1) each; None for every segment if sigma = 0.

    Drawn in blocks of ``JITTER_BLOCK`` segments (the same random stream as one draw per segment).
    """
    if sigma <= 0:
        yield from (None for _ in range(n_seg))
        return
    for start in range(0, n_seg, JITTER_BLOCK):
        block = rng.standard_normal((min(JITTER_BLOCK, n_seg - start), n_dev, 1))
        np.multiply(block, sigma, out=block)
        yield from np.exp(block, out=block)


def _advance(engine: DomainEngine, state: DomainState, drive: np.ndarray, dt: np.ndarray, sigma: float,
             rng: np.random.Generator) -> np.ndarray:
    """Run every segment; net polarization P/Ps at the end of each, shape (K, n_devices).

    Cycle-to-cycle jitter is drawn only for segments that can move a domain (pulses, not reads or gaps);
    rows are contiguous, and P/Ps is formed (one gemv into its row) only after a segment moved a domain.
    """
    n_dev = state.s.shape[0]
    active = [engine.active(v, t) for v, t in zip(drive, dt)]
    jitters = _jitter(rng, sigma, n_dev, sum(active))
    p_norm = np.empty((len(drive), n_dev))
    if engine.fp.beta == 1.0:
        _advance_offset(engine, state, active, drive, dt, jitters, p_norm)
        return p_norm
    current_p = state.p_norm
    for k, act in enumerate(active):
        if act:
            engine.apply(state, drive[k], dt[k], next(jitters))
            current_p = state.mean_into(p_norm[k])
        else:
            p_norm[k] = current_p
    return p_norm


def _advance_offset(engine: DomainEngine, state: DomainState, active: list, drive: np.ndarray, dt: np.ndarray,
                    jitters, p_norm: np.ndarray) -> None:
    """The beta = 1 segments of :func:`_advance`, with the states held as ``u = s - d``.

    ``d`` is the saturation state the last pulse drove toward, so a pulse of the same polarity is one
    in-place product ``u *= exp(-progress)`` (the exact update ``s <- d + (s - d) exp(-progress)``) and a
    polarity change one shift ``u += d_old - d_new``; P/Ps is ``mean(u) + d``. ``state.s`` holds ``s``
    again on return.
    """
    u, target = state.s, 0.0
    factor = np.empty_like(u)
    current_p = state.p_norm
    for k, act in enumerate(active):
        if not act:
            p_norm[k] = current_p
            continue
        d, prog, _, a, _ = engine._level(drive[k], dt[k])
        jitter = next(jitters)
        if d != target:
            u += target - d
            target = d
        if jitter is None:
            u *= a
        else:
            np.exp(np.multiply(prog, np.negative(jitter), out=factor), out=factor)
            u *= factor
        current_p = state.mean_into(p_norm[k])
        current_p += target
    u += target


def simulate(params: FeFETParams, waveform: Waveform, vd: float = 0.1, n_devices: int = 1,
             seed=None, s_init=-1.0, devices: DeviceSample | None = None) -> SimResult:
    """Simulate ``n_devices`` FeFETs under ``waveform``.

    Parameters
    ----------
    params : FeFETParams
    waveform : Waveform
        Piecewise-constant gate (and drain) biases; source grounded.
    vd : float
        Drain bias [V] for segments that leave it unset (DC sweeps).
    n_devices : int
        Number of devices simulated at once (vectorized).
    seed : int, numpy.random.Generator or None
        Source of device-to-device, cycle-to-cycle and read-noise randomness; None means seed 0, so
        a call is always reproducible (pass a Generator to continue a stream).
    s_init : float or ndarray
        Initial domain states in [-1, 1] (default -1: fully down, high Vt, erased).
    devices : DeviceSample, optional
        Pre-drawn device variation (overrides ``n_devices``).

    Returns
    -------
    SimResult
    """
    rng = _as_rng(seed)
    devices = devices if devices is not None else sample_devices(params, n_devices, rng)
    n_dev, n_dom = devices.ea_up.shape
    state = DomainState(np.broadcast_to(np.asarray(s_init, dtype=float), (n_dev, n_dom)))
    engine = DomainEngine(params.ferro, devices)
    vd_seg = np.where(np.isnan(waveform.vd), vd, waveform.vd)
    drive = waveform.vg - 0.5 * vd_seg
    p_range = (min(-1.0, float(state.s.min(initial=0.0))), max(1.0, float(state.s.max(initial=0.0))))
    p_kn = _advance(engine, state, drive, waveform.dt, params.sigma_c2c, rng)  # (K, n_devices)
    current = np.zeros(p_kn.shape)  # calloc: pages of segments without current are never written
    biased = np.flatnonzero(vd_seg != 0.0)  # with source and drain grounded no current flows: no channel solve
    if len(biased):
        channel_currents(params, waveform.vg, vd_seg, p_kn, p_range, devices.vt_shift, biased, current)
    reads = np.flatnonzero(waveform.mask("read"))
    if params.read_noise > 0 and len(reads):
        add_read_noise(rng, params.read_noise * np.abs(vd_seg), reads, current)
    g_after, g_init = conductances(waveform, reads, current, vd_seg)
    return SimResult(t=waveform.t_end, vg=waveform.vg.copy(), vd=vd_seg, v_fe=drive,
                     p_norm=p_kn.T, ps=params.ferro.ps, id=current.T, kind=waveform.kind.copy(),
                     pulse=waveform.pulse.copy(), g_after_pulse=g_after, g_initial=g_init, state=state.s)
