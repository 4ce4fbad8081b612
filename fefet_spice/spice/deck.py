"""Shared deck pieces: solver options, PWL sources from piecewise-constant segments, sampling."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .fmt import name, node, num


@dataclass(frozen=True)
class SolverOptions:
    """ngspice transient options (chosen by measurement, see BENCHMARKS.md)."""

    method: str = "auto"
    """Integration method: gear (stiff domain rates up to ~1e12 /s), trap, or auto = gear
    (:func:`resolve_method`)."""
    reltol: float = 1e-3
    """Relative tolerance [-]."""
    abstol: float = 1e-15
    """Absolute current tolerance [A]."""
    vntol: float = 1e-7
    """Absolute voltage tolerance [V] (domain states are node voltages in [-1, 1])."""
    trtol: float = 7.0
    """Truncation-error overestimate factor [-] (ngspice default 7; larger = fewer time steps)."""
    chgtol: float = 1e-20
    """Charge tolerance [C]: far below the state capacitors' charge (C_STATE x 1 V)."""
    max_steps_per_segment: float = 1.0
    """Largest time step as a fraction 1/x of the shortest segment [-]."""
    t_edge: float = 1e-9
    """Rise/fall time of every PWL transition [s]."""
    klu: bool = False
    """Use ngspice's KLU sparse matrix solver (``.options klu``) instead of Sparse 1.3 [-]."""

    def lines(self, t_stop: float, t_min_seg: float, t_start: float = 0.0) -> list[str]:
        """``.options`` and ``.tran`` lines; output is kept only from ``t_start`` [s] on."""
        maxstep = t_min_seg / self.max_steps_per_segment
        method = "gear" if self.method == "auto" else self.method
        return [f".options method={name('method', method)} reltol={num(self.reltol)} "
                f"abstol={num(self.abstol)} vntol={num(self.vntol)} chgtol={num(self.chgtol)} trtol={num(self.trtol)} itl4=100 "
                f"filetype=binary",
                *([".options klu"] if self.klu else []),
                f".tran {num(maxstep)} {num(t_stop)} {num(t_start)} {num(maxstep)} uic"]


def resolve_method(options: SolverOptions, line_resistance: bool) -> SolverOptions:
    """``method="auto"``: gear, for every deck (``line_resistance`` is kept for callers).

    trap was chosen for state-only decks with resistive lines (a little faster where it runs: 8x8 VAU 11.8 s
    against 14.0 s of CPU), but it is not L-stable: on the 1e-14 s line nodes it rings, and an 8x8, 90 %
    sparse, 200 ohm deck ran past an hour of wall time once and 17 min of CPU another time where gear takes
    35 s. trap stays available explicitly; the run ladder of :func:`fefet_spice.spice.array.run_array` then
    switches to gear when trap makes too little progress."""
    if options.method != "auto":
        return options
    return replace(options, method="gear")


def pwl(values: np.ndarray, durations: np.ndarray, t_edge: float) -> str:
    """``PWL(...)`` holding ``values[k]`` over segment k, with linear ``t_edge`` transitions."""
    t = 0.0
    # transitions must stay resolvable in the %.9e time format over the whole waveform
    t_edge = max(t_edge, 1e-8 * float(np.sum(durations)))
    pts = [(0.0, float(values[0]))]
    prev = float(values[0])
    for v, dt in zip(values, durations):
        v = float(v)
        if v != prev:
            edge = min(t_edge, 0.25 * float(dt))
            pts.append((t, prev))
            pts.append((t + edge, v))
            prev = v
        t += float(dt)
    pts.append((t, prev))
    body = " ".join(f"{num(a)} {num(b)}" for a, b in pts)
    return f"PWL({body})"


def vsource(ref: str, plus: str, minus: str, spec: str) -> str:
    return f"{name('source', 'V' + ref)} {node(plus)} {node(minus)} {spec}"


def sample(time: np.ndarray, y: np.ndarray, t_at: np.ndarray) -> np.ndarray:
    """Values of ``y`` at times ``t_at`` (linear interpolation on the simulator's time grid)."""
    return np.interp(np.asarray(t_at, dtype=float), time, y)


def energy(time: np.ndarray, vectors: dict[str, np.ndarray], sources: dict[str, tuple[str, str]],
           t0: float, t1: float) -> float:
    """Energy delivered by the sources over [t0, t1] [J]: -integral of sum V*I (SPICE sign)."""
    mask = (time >= t0) & (time <= t1)
    tt = time[mask]
    p = np.zeros_like(tt)
    for src, (plus, minus) in sources.items():
        v = vectors[f"v({plus})"][mask] if plus != "0" else 0.0
        if minus != "0":
            v = v - vectors[f"v({minus})"][mask]
        p -= v * vectors[f"i(v{src})"][mask]
    return float(np.trapezoid(p, tt))
