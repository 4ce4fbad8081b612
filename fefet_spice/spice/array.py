"""The two-FeFET cell and M x N arrays as ngspice decks (SPEC 2).

Lines: BL and SPL and DIL per row, DOL per column, with a resistance ``r_line`` per segment (one
segment per cell) on BL, DIL and DOL. Topology **B** (default): BL -> sparsity channel (gate on SPL)
-> weight gate; weight channel DIL -> DOL. Topology **A**: DIL -> sparsity channel -> weight channel
-> DOL in series, weight gate on BL. A floating SPL is a node with a line capacitance per cell and a
large leak resistance to ground (SPICE needs a DC path); so is every internal gate/mid node.

A deck is one *operation* (a VAU step, a series of writes, a read): every line follows a
piecewise-constant schedule over common segments, domain states enter as instance initial
conditions and leave as final node voltages, so operations chain in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ParamError, SimulatorError
from ..array.schedule import Schedule
from ..params import FeFETParams
from . import runner
from .deck import SolverOptions, pwl, resolve_method
from .device import SpiceDevice, binned_device, instance, subckt
from .fmt import check_deck, num

TOPOLOGIES = ("A", "B")


@dataclass(frozen=True)
class ArrayConfig:
    """Electrical environment of an array (all SI)."""

    topology: str = "B"
    """Cell topology: 'B' (sparsity FeFET drives the weight gate) or 'A' (series channels)."""
    r_line: float = 0.0
    """Line resistance per cell segment on BL, DIL and DOL [ohm]."""
    c_line: float = 0.2e-15
    """Line capacitance to ground per cell segment on every line, and on internal nodes [F]."""
    r_leak: float = 1e12
    """Leak resistance to ground of floating nodes (SPL, weight gate, series mid node) [ohm]."""
    bins_weight: int = 12
    """Domain bins of the weight FeFET in SPICE [-]."""
    bins_sparsity: int = 4
    """Domain bins of the sparsity FeFET in SPICE [-]."""

    def __post_init__(self) -> None:
        if self.topology not in TOPOLOGIES:
            raise ParamError(f"topology: must be one of {TOPOLOGIES}, got {self.topology!r}")
        for f in ("r_line", "c_line", "r_leak"):
            if not np.isfinite(getattr(self, f)) or getattr(self, f) < 0:
                raise ParamError(f"{f}: must be finite and >= 0, got {getattr(self, f)!r}")
        if self.r_leak <= 0:
            raise ParamError("r_leak: must be > 0")


@dataclass
class ArrayState:
    """Domain-bin states of every cell: weight (M, N, Kw) and sparsity (M, N, Ks) [-]."""

    weight: np.ndarray
    sparsity: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape[:2]

    def copy(self) -> "ArrayState":
        return ArrayState(self.weight.copy(), self.sparsity.copy())


def initial_state(m: int, n: int, mask, cfg: ArrayConfig, s_weight: float = -1.0) -> ArrayState:
    """All weights at ``s_weight``; sparsity FeFETs on (+1) where ``mask`` is 1, off (-1) elsewhere."""
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), (m, n))
    w = np.full((m, n, cfg.bins_weight), float(s_weight))
    s = np.where(mask[..., None], 1.0, -1.0) * np.ones((m, n, cfg.bins_sparsity))
    return ArrayState(w, s)


def _line_nodes(prefix: str, idx: int, count: int, r_line: float) -> list[str]:
    """Node names of a line's taps: all the source node when r_line == 0."""
    if r_line == 0.0:
        return [f"{prefix}{idx}"] * count
    return [f"{prefix}{idx}_{k}" for k in range(count)]


def _line(prefix: str, idx: int, count: int, cfg: ArrayConfig, out: list[str]) -> list[str]:
    taps = _line_nodes(prefix, idx, count, cfg.r_line)
    prev = f"{prefix}{idx}"
    if cfg.r_line > 0.0:
        for k, tap in enumerate(taps):
            out.append(f"R{prefix}{idx}_{k} {prev} {tap} {num(cfg.r_line)}")
            prev = tap
    for k, tap in enumerate(dict.fromkeys(taps)):
        out.append(f"C{tap} {tap} 0 {num(cfg.c_line * (1 if cfg.r_line > 0 else count))}")
    return taps


def array_deck(wdev: SpiceDevice, sdev: SpiceDevice, state: ArrayState, sched: Schedule,
               cfg: ArrayConfig = ArrayConfig(), options: SolverOptions = SolverOptions(),
               save_currents: bool = False, title: str = "FeFET array", extra: tuple[str, ...] = ()) -> str:
    """A runnable deck of the array under ``sched`` starting from ``state``."""
    if wdev.params.name.lower() == sdev.params.name.lower():
        raise ParamError(f"the weight and sparsity FeFETs are both named {wdev.params.name!r} (ngspice ignores "
                         "case): give them different names")
    m, n = state.shape
    options = resolve_method(options, cfg.r_line > 0.0 and not save_currents)
    t_stop = float(np.sum(sched.dt))
    caps = cfg.r_line > 0.0  # contact-node caps only where lines are resistive (see device.C_CONTACT)
    lines = [f"* {title}: {m}x{n} two-FeFET cells, topology {cfg.topology} (fefet_spice.spice.array)",
             subckt(wdev, caps).rstrip("\n"), subckt(sdev, caps).rstrip("\n")]
    edge = options.t_edge
    for i in range(m):
        lines.append(f"Vbl{i} bl{i} 0 {pwl(sched.bl[i], sched.dt, edge)}")
        if sched.dil_float:
            lines += [f"Cdilf{i} dil{i} 0 {num(cfg.c_line * n)}", f"Rdilf{i} dil{i} 0 {num(cfg.r_leak)}"]
        else:
            lines.append(f"Vdil{i} dil{i} 0 {pwl(sched.dil[i], sched.dt, edge)}")
        if sched.spl is None:
            lines += [f"Cspl{i} spl{i} 0 {num(cfg.c_line * n)}", f"Rspl{i} spl{i} 0 {num(cfg.r_leak)}",
                      f"Bpre{i} 0 spl{i} I=1e-3*({num(sched.v_spl_pre)}-v(spl{i}))*(1-u(time-{num(sched.t_pre)}))"]
        else:
            lines.append(f"Vspl{i} spl{i} 0 {pwl(sched.spl[i], sched.dt, edge)}")
    for j in range(n):
        lines.append(f"Vdol{j} dol{j} 0 {pwl(sched.dol[j], sched.dt, edge)}")
    bl = [_line("bl", i, n, cfg, lines) for i in range(m)]
    dil = [_line("dil", i, n, cfg, lines) for i in range(m)]
    dol = [_line("dol", j, m, cfg, lines) for j in range(n)]
    for i in range(m):
        for j in range(n):
            mid = f"g{i}_{j}" if cfg.topology == "B" else f"m{i}_{j}"
            lines += [f"C{mid} {mid} 0 {num(cfg.c_line)}", f"R{mid} {mid} 0 {num(cfg.r_leak)}"]
            if cfg.topology == "B":
                lines.append(instance(f"s{i}_{j}", bl[i][j], f"spl{i}", mid, sdev, state.sparsity[i, j]))
                lines.append(instance(f"w{i}_{j}", dil[i][j], mid, dol[j][i], wdev, state.weight[i, j]))
            else:
                lines.append(instance(f"s{i}_{j}", dil[i][j], f"spl{i}", mid, sdev, state.sparsity[i, j]))
                lines.append(instance(f"w{i}_{j}", mid, bl[i][j], dol[j][i], wdev, state.weight[i, j]))
    # without currents only the final states are needed: keep the output of the last segment only
    t_start = 0.0 if save_currents else t_stop - 0.5 * float(sched.dt[-1])
    lines += options.lines(t_stop, float(np.min(sched.dt)), t_start)
    save = [f"v(x{kind}{i}_{j}.q{k})" for i in range(m) for j in range(n)
            for kind, dev in (("w", wdev), ("s", sdev)) for k in range(dev.n_bins)]
    if save_currents:
        save += [(f"i(vbl{i}) v(bl{i}) v(dil{i})" if sched.dil_float else f"i(vbl{i}) i(vdil{i}) v(bl{i}) v(dil{i})")
                 for i in range(m)]
        save += [f"i(vdol{j}) v(dol{j})" for j in range(n)]
        if sched.spl is not None:
            save += [f"i(vspl{i}) v(spl{i})" for i in range(m)]
    lines += [".save " + " ".join(save[k:k + 8]) for k in range(0, len(save), 8)]
    lines += list(extra)
    lines.append(".end")
    return check_deck("\n".join(lines) + "\n")


@dataclass(frozen=True)
class ArrayRun:
    """Result of one operation: final state, time vector and raw vectors."""

    state: ArrayState
    time: np.ndarray
    vectors: dict


LADDER_SHARE = (0.5, 0.25, 0.25)
"""Share of the limit (:func:`fefet_spice.spice.runner.sim_timeout`) each attempt of the run ladder may use
as its CPU budget [-]; the progress watchdog (:mod:`fefet_spice.spice.watchdog`) halts an attempt as soon as
its measured rate (simulated time per CPU second) says it would exceed that budget. The first attempt (the
options asked for) gets half."""


def ladder(options: SolverOptions) -> list[SolverOptions]:
    """Attempts of one deck: as asked; then gear (if trap was asked) or gear with reltol 3x looser (slow
    progress is most often a too tight tolerance on a stiff deck); then gear with reltol 3x tighter (the
    cure for "timestep too small")."""
    first = options
    second = (replace(options, method="gear") if options.method == "trap"
              else replace(options, method="gear", reltol=min(3 * options.reltol, 1e-2)))
    third = replace(options, method="gear", reltol=options.reltol / 3)
    return [first, second, third]


def _run_with_retry(make_deck, options: SolverOptions, backend: str) -> dict:
    """Run the attempts of :func:`ladder` under the progress watchdog, each with its CPU budget
    (:data:`LADDER_SHARE` of the limit) and the wall-clock time left as a backstop; an attempt that is too
    slow at its measured rate, stops on a too small time step or does not converge is followed by the next.
    One sentence names the deck, the last attempt, the simulated time it reached and its rate."""
    from .watchdog import run_ladder

    return run_ladder(make_deck, ladder(resolve_method(options, True)),
                      lambda o: f"{o.method} reltol {o.reltol:g}", runner.sim_timeout(), LADDER_SHARE, backend,
                      what="the array deck")


def run_array(wparams: FeFETParams, sparams: FeFETParams, state: ArrayState, sched: Schedule,
              cfg: ArrayConfig = ArrayConfig(), options: SolverOptions = SolverOptions(),
              save_currents: bool = False, backend: str = "auto", split_rows: bool = True) -> ArrayRun:
    """Run one operation in ngspice and return the final domain states.

    With ideal lines (``r_line == 0``) and no current output, rows are electrically independent (every
    line node is a source node), so each row runs as its own deck: same circuit equations, but ngspice's
    cost per device grows with the deck size (measured: 14 us per cell-iteration at 8x8, 66 us at 16x16),
    so row decks scale linearly. Set ``split_rows=False`` to force one deck.
    """
    m, n = state.shape
    if split_rows and cfg.r_line == 0.0 and not save_currents and m > 1:
        new = state.copy()
        for i in range(m):
            sub = Schedule(dt=sched.dt, bl=sched.bl[i:i + 1], dil=sched.dil[i:i + 1], dol=sched.dol,
                           spl=None if sched.spl is None else sched.spl[i:i + 1], v_spl_pre=sched.v_spl_pre,
                           t_pre=sched.t_pre, pulse_of=sched.pulse_of, dil_float=sched.dil_float)
            part = ArrayState(state.weight[i:i + 1].copy(), state.sparsity[i:i + 1].copy())
            res = run_array(wparams, sparams, part, sub, cfg, options, False, backend, split_rows=False)
            new.weight[i], new.sparsity[i] = res.state.weight[0], res.state.sparsity[0]
        return ArrayRun(state=new, time=res.time, vectors={})
    wdev = binned_device(wparams, cfg.bins_weight)
    sdev = binned_device(sparams, cfg.bins_sparsity)
    vec = _run_with_retry(lambda o: array_deck(wdev, sdev, state, sched, cfg, o, save_currents), options, backend)
    new = state.copy()
    for i in range(m):
        for j in range(n):
            new.weight[i, j] = [vec[f"v(xw{i}_{j}.q{k})"][-1] for k in range(wdev.n_bins)]
            new.sparsity[i, j] = [vec[f"v(xs{i}_{j}.q{k})"][-1] for k in range(sdev.n_bins)]
    return ArrayRun(state=new, time=vec["time"], vectors=vec)


def mac_currents(wparams: FeFETParams, sparams: FeFETParams, state: ArrayState, v_in, cfg: ArrayConfig = ArrayConfig(),
                 v_spl: float = 0.0, backend: str = "auto") -> tuple[np.ndarray, ArrayRun]:
    """MAC read in ngspice: DIL_i at ``v_in[i]`` [V], BLs at the weight read gate voltage, SPL at
    ``v_spl`` [V], DOLs at 0 V. Returns the DOL currents (N,) [A] at the end of the read and the run."""
    from ..array.schedule import mac_read

    m, n = state.shape
    sched = mac_read(v_in, n, wparams.op.v_read_g, wparams.op.t_read, v_spl=v_spl)
    run = run_array(wparams, sparams, state, sched, cfg, save_currents=True, backend=backend)
    return np.array([run.vectors[f"i(vdol{j})"][-1] for j in range(n)]), run


def weight_conductance(wparams: FeFETParams, state: ArrayState) -> np.ndarray:
    """Read conductance (M, N) [S] of the weight FeFETs at their bin states (numpy channel model)."""
    from ..model.channel import drain_current
    from ..model.simulate import threshold_voltage

    op = wparams.op
    vt = threshold_voltage(wparams, state.weight.mean(axis=-1))
    return drain_current(wparams.channel, op.v_read_g, op.v_read_d, vt) / op.v_read_d
