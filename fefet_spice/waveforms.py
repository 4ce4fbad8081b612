"""Piecewise-constant gate waveforms: DC double sweeps, minor loops, pulse trains and reads.

A :class:`Waveform` is a list of segments, each with a gate voltage, a duration, an optional drain
voltage (NaN: the simulation's default V_D) and a kind. Piecewise-constant drive is what makes the
domain update of :mod:`fefet_spice.model.simulate` exact, and what the SPICE PWL sources reproduce.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("sweep", "pulse", "gap", "read", "hold")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class Waveform:
    """Segments of constant gate (and drain) bias."""

    vg: np.ndarray
    """Gate voltage per segment [V]."""
    dt: np.ndarray
    """Duration per segment [s] (> 0)."""
    vd: np.ndarray
    """Drain voltage per segment [V]; NaN means the simulation's default drain bias."""
    kind: np.ndarray
    """Segment kind code per segment (index into ``KINDS``)."""
    pulse: np.ndarray
    """Index of the pulse a 'pulse' or following 'read' segment belongs to; -1 otherwise."""

    def __post_init__(self) -> None:
        n = len(self.vg)
        for name in ("dt", "vd", "kind", "pulse"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"waveform field {name!r} has {len(getattr(self, name))} entries, vg has {n}")
        if n and not np.all(np.asarray(self.dt) > 0):
            raise ValueError("waveform durations must be > 0")
        if not np.all(np.isfinite(self.vg)):
            raise ValueError("waveform gate voltages must be finite")

    def __len__(self) -> int:
        return len(self.vg)

    @property
    def t_end(self) -> np.ndarray:
        """Time at the end of each segment [s]."""
        return np.cumsum(self.dt)

    def mask(self, kind: str) -> np.ndarray:
        """Boolean mask of the segments of one kind."""
        return self.kind == _KIND_CODE[kind]

    @property
    def n_pulses(self) -> int:
        return int(self.pulse.max()) + 1 if len(self.pulse) and self.pulse.max() >= 0 else 0


def _make(vg, dt, kind: str, vd=np.nan, pulse=-1) -> Waveform:
    vg = np.atleast_1d(np.asarray(vg, dtype=float))
    n = len(vg)
    return Waveform(vg=vg, dt=np.broadcast_to(np.asarray(dt, float), (n,)).copy(),
                    vd=np.broadcast_to(np.asarray(vd, float), (n,)).copy(),
                    kind=np.full(n, _KIND_CODE[kind], dtype=np.int8),
                    pulse=np.broadcast_to(np.asarray(pulse, np.int64), (n,)).copy())


def concat(*parts: Waveform) -> Waveform:
    """Join waveforms in time; pulse indices of later parts are renumbered after earlier ones."""
    pulses, offset = [], 0
    for p in parts:
        pulses.append(np.where(p.pulse >= 0, p.pulse + offset, -1))
        offset += p.n_pulses
    return Waveform(vg=np.concatenate([p.vg for p in parts]), dt=np.concatenate([p.dt for p in parts]),
                    vd=np.concatenate([p.vd for p in parts]), kind=np.concatenate([p.kind for p in parts]),
                    pulse=np.concatenate(pulses) if pulses else np.zeros(0, np.int64))


def ramp(points, step: float = 0.02, rate: float = 1.0) -> Waveform:
    """Staircase through the turning ``points`` [V] with voltage ``step`` [V] at sweep ``rate`` [V/s].

    Each stair lasts ``step / rate``; the drain sits at the simulation's default V_D (a DC Id-Vg sweep).
    """
    if step <= 0 or rate <= 0:
        raise ValueError("ramp step and rate must be > 0")
    points = [float(p) for p in points]
    levels = [np.array([points[0]])]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.ceil(abs(b - a) / step - 1e-9)))
        levels.append(a + (b - a) * np.arange(1, n + 1) / n)
    vg = np.concatenate(levels)
    return _make(vg, step / rate, "sweep")


def dc_double_sweep(v_min: float, v_max: float, step: float = 0.02, rate: float = 1.0,
                    cycles: int = 1) -> Waveform:
    """Id-Vg double sweep ``v_min -> v_max -> v_min``, repeated ``cycles`` times [V, V/s]."""
    pts = [v_min] + [v for _ in range(cycles) for v in (v_max, v_min)]
    return ramp(pts, step=step, rate=rate)


def minor_loop_sweep(turning_points, step: float = 0.02, rate: float = 1.0) -> Waveform:
    """Sweep through arbitrary turning points [V] (minor loops nested in a major loop)."""
    return ramp(turning_points, step=step, rate=rate)


def read(v_read_g: float, t_read: float, v_read_d: float = np.nan) -> Waveform:
    """One read segment: gate at ``v_read_g`` [V], drain at ``v_read_d`` [V] for ``t_read`` [s]."""
    return _make([v_read_g], t_read, "read", vd=v_read_d)


def hold(v: float, t: float) -> Waveform:
    """A constant gate bias with the drain at 0 V (pre-conditioning, retention)."""
    return _make([v], t, "hold", vd=0.0)


def pulse_train(amplitudes, width: float, gap: float = 1e-6, v_read_g: float | None = None,
                t_read: float = 1e-6, v_read_d: float = np.nan) -> Waveform:
    """Pulses of the given ``amplitudes`` [V] and ``width`` [s], each followed by an idle ``gap`` [s]
    at 0 V and (when ``v_read_g`` is given) a read. Source and drain are grounded during pulses."""
    amplitudes = np.atleast_1d(np.asarray(amplitudes, dtype=float))
    n = len(amplitudes)
    per = 2 + (v_read_g is not None)
    vg = np.zeros(n * per)
    dt = np.zeros(n * per)
    vd = np.zeros(n * per)
    kind = np.zeros(n * per, dtype=np.int8)
    vg[0::per], dt[0::per], kind[0::per] = amplitudes, width, _KIND_CODE["pulse"]
    gap = gap if gap > 0 else 1e-12
    vg[1::per], dt[1::per], kind[1::per] = 0.0, gap, _KIND_CODE["gap"]
    if v_read_g is not None:
        vg[2::per], dt[2::per], kind[2::per] = v_read_g, t_read, _KIND_CODE["read"]
        vd[2::per] = v_read_d
    return Waveform(vg=vg, dt=dt, vd=vd, kind=kind, pulse=np.repeat(np.arange(n), per))


def identical_pulses(n: int, amplitude: float, width: float, **kw) -> Waveform:
    """``n`` identical pulses (the update magnitude is the pulse count, its sign the polarity)."""
    return pulse_train(np.full(int(n), float(amplitude)), width, **kw)


def incremental_pulses(n: int, v_start: float, v_step: float, width: float, **kw) -> Waveform:
    """``n`` pulses with amplitude growing by ``v_step`` [V] from ``v_start`` [V] (ISPP)."""
    return pulse_train(v_start + v_step * np.arange(int(n)), width, **kw)


def potentiation_depression(params, n_up: int, n_dn: int, reset: bool = True) -> Waveform:
    """The standard conductance-update experiment on a device's operating point: optional reset to
    the fully depressed state, ``n_up`` identical up pulses, then ``n_dn`` identical down pulses,
    each followed by a read at (V_read_g, V_read_d)."""
    op = params.op
    kw = dict(gap=op.t_gap, v_read_g=op.v_read_g, t_read=op.t_read, v_read_d=op.v_read_d)
    parts = []
    if reset:
        parts.append(hold(2.0 * op.v_pulse_dn, 100 * op.t_pulse))
        parts.append(read(op.v_read_g, op.t_read, op.v_read_d))
    parts.append(identical_pulses(n_up, op.v_pulse_up, op.t_pulse, **kw))
    parts.append(identical_pulses(n_dn, op.v_pulse_dn, op.t_pulse, **kw))
    return concat(*parts)
