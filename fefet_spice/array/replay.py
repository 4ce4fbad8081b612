"""Replay a recorded training run's array updates (:mod:`.record`) on MSNet's physical arrays.

**Mapping.** A weight is the pair ``G+ - G-`` of two cells (SPEC 2). Layer ``l`` (M, N) becomes a
physical M x 2N array, G+ cells in columns 0..N-1 and the G- cell of weight column j in column N + j,
cut into row tiles of at most ``size`` (64) rows: MSNet's (25, 4), (100, 8), (32, 5) give conv1 25x8,
conv2 64x16 + 36x16, fc 32x10 (four arrays).

**Operations, following the trainer** (:mod:`fefet_spice.train.rules`, :class:`~fefet_spice.train.device.DeviceLayer`):
the trainer fires a weight-direction count ``n`` as ``+n`` on G+ and ``-n`` on G- (polarity-split VAU:
G+ gets its own ``(r+, c+)``, G- its own ``(r-, c-)``, "own bit and data lines", in the same N + 1
steps), and only on the pair's *responding* cell (G+ where ``w >= -half level``, G- where
``w <= +half``; both near zero; none if pruned). So each array's G+ half and G- half have their own
bit-line segments and per fire each half runs one :func:`~.schedule.row_column_vau` operation: column
fire ``(0, c+)`` on G+ and ``(0, -c-)`` on G-, row fire ``(r+, 0)`` and ``(-r-, 0)``. A shared bit line
per row (row step split into a G+ and a G- operation, the other half gated off) does not work in
topology B: an *off* sparsity FeFET passes depression pulses (its gate-source voltage grows with a
negative bit line): measured, 2 row pulses of -3.9 V take a gated-off cell at 0.61 of the range to 0.51
in the full deck and the co-simulation alike, while the fast path (ideal masking) leaves it. The
halves are simulated as separate decks; their coupling through the shared, grounded data input lines
(IR drop with line resistance) is neglected.

The gate of a cell during an operation is its sparsity FeFET, set *on* for the cells the trainer
pulsed and *off* for the others (pruned pairs and the idle cell of a pair, both at G_min, where the
leak above cannot move them further): the trainer's sign-magnitude rule needs a per-cell gate, which
topology B's row-wide sparsity line cannot write, so the gate is set in the state as the fast path's
mask does (an idealization; the electrical effect of an off gate is what each backend simulates).

**Pruning and regrowth** set the state: a pruned pair's two weight cells to G_min (``s = -1``) and its
sparsity cells off, a regrown pair's sparsity cells on with the weights left where pruning put them.
The trainer fires ``reset_pulses`` (64) depression pulses per cell, which saturate at G_min (the fast
path takes a full-on cell there, :func:`reset_error`), and :func:`~.schedule.sparsity_write` is row-wide.

**Conductances** map between the LUT and the compact model by their position in the range:
``(G - G_min) / (G_max - G_min)`` is kept (the LUT's range is the characterized model's, with variation),
and the state is the uniform bin state of that model conductance.

A backend is any ``run(wparams, sparams, state, sched, cfg, options, backend) -> result with .state``:
:func:`run_array_fast` (numpy fast path, ideal lines), :func:`fefet_spice.spice.cosim.run_array_cosim`
(ngspice line network), or the full deck :func:`fefet_spice.spice.array.run_array`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParamError
from ..spice.array import ArrayConfig, ArrayState, weight_conductance
from ..spice.deck import SolverOptions
from .fast import FastArray
from .record import TrainRecord
from .schedule import row_column_vau

LAYER_NAMES = ("conv1", "conv2", "fc")


@dataclass(frozen=True)
class Tile:
    """One physical array: rows ``rows`` of layer ``layer``, G+ and G- column halves (2N columns)."""

    name: str
    layer: int
    rows: tuple[int, int]
    n_weight_cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows[1] - self.rows[0], 2 * self.n_weight_cols


def layout(shapes, size: int = 64, names=LAYER_NAMES) -> list[Tile]:
    """Physical arrays of the layers ``shapes`` (M, N): pairs side by side, row tiles of ``size`` rows."""
    tiles = []
    for l, (m, n) in enumerate(shapes):
        if 2 * n > size:
            raise ParamError(f"layer {l}: {n} weight columns need {2 * n} cell columns, more than {size}")
        cuts = list(range(0, m, size))
        for k, r0 in enumerate(cuts):
            name = names[l] if l < len(names) else f"layer{l}"
            tiles.append(Tile(name if len(cuts) == 1 else f"{name}.{k}", l, (r0, min(m, r0 + size)), n))
    return tiles


class ConductanceMap:
    """LUT conductance <-> compact-model uniform bin state, by relative position in the range."""

    def __init__(self, wparams, g_min: float, g_max: float, n: int = 4001):
        s = np.linspace(-1.0, 1.0, n)
        g = weight_conductance(wparams, ArrayState(s[:, None, None], np.ones((n, 1, 1))))[:, 0]
        if not np.all(np.diff(g) >= 0):
            raise ParamError("the weight FeFET's read conductance must not fall as polarization rises")
        self.s, self.g = s, g
        self.g_min, self.g_max = float(g_min), float(g_max)

    def to_state(self, g_lut: np.ndarray) -> np.ndarray:
        frac = np.clip((np.asarray(g_lut) - self.g_min) / (self.g_max - self.g_min), 0.0, 1.0)
        return np.interp(self.g[0] + frac * (self.g[-1] - self.g[0]), self.g, self.s)

    def to_lut(self, g_model: np.ndarray) -> np.ndarray:
        frac = (np.asarray(g_model) - self.g[0]) / (self.g[-1] - self.g[0])
        return self.g_min + frac * (self.g_max - self.g_min)


def fire_ops(step: str, n_plus, n_minus, plus, minus) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Physical operations ``(half, r, c, gate)`` of one recorded fire on one tile (module docstring):
    half 0 is the G+ half (weight-direction counts as they are), half 1 the G- half (inverted)."""
    m, n = plus.shape
    ops = []
    for half, counts, gate in ((0, np.asarray(n_plus), plus), (1, -np.asarray(n_minus), minus)):
        if not counts.any():
            continue
        if step == "col":
            ops.append((half, np.zeros(m, dtype=np.int64), counts, gate))
        else:
            ops.append((half, counts, np.zeros(n, dtype=np.int64), gate))
    return ops


@dataclass
class ArrayStats:
    """What one physical array received during the replay."""

    name: str
    shape: tuple
    updates: int = 0
    operations: int = 0
    """Half-array operations run (one per half and fire with a non-zero operator) [-]."""
    pulse_slots: int = 0
    """Pulse time slots simulated, summed over the operations (column pulses plus the longest row train) [-]."""
    cell_pulses: int = 0
    """Pulses reaching gated-on cells [-]."""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    """This process's CPU time (a subprocess simulator's is not included) [s]."""


@dataclass
class FastRun:
    state: ArrayState
    limits: tuple = ()
    """Cases of the operation the fast path does not represent (:meth:`FastArray.check`)."""


def run_array_fast(wparams, sparams, state: ArrayState, sched, cfg: ArrayConfig = ArrayConfig(),
                   options=None, backend=None) -> FastRun:
    """The numpy fast path with :func:`fefet_spice.spice.cosim.run_array_cosim`'s signature: weight
    bins advance under ideal lines, gated by the sparsity state (on where its mean is > 0)."""
    gate = state.sparsity.mean(axis=-1) > 0
    fa = FastArray(wparams, gate, n_domains=state.weight.shape[-1], s_init=state.weight).apply(sched, cfg.r_line,
                                                                                               warn=False)
    return FastRun(ArrayState(fa.state.s.reshape(state.weight.shape).copy(), state.sparsity.copy()), tuple(fa.limits))


@dataclass
class Replay:
    """Result of :func:`replay`: the tiles, their final states and masks, per-array statistics."""

    tiles: list
    states: list
    masks: list
    stats: list
    n_updates: int
    gmap: ConductanceMap = field(repr=False)

    def layer_conductances(self, wparams, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """G+ and G- (M, N) of ``layer`` in LUT units [S]."""
        parts = [self.gmap.to_lut(weight_conductance(wparams, s)) for t, s in zip(self.tiles, self.states)
                 if t.layer == layer]
        g = np.concatenate(parts, axis=0)
        n = g.shape[1] // 2
        return g[:, :n], g[:, n:]

    def layer_mask(self, layer: int) -> np.ndarray:
        return np.concatenate([m for t, m in zip(self.tiles, self.masks) if t.layer == layer], axis=0)


def _bins(x: np.ndarray, k: int) -> np.ndarray:
    return np.repeat(np.asarray(x, dtype=float)[..., None], k, axis=-1)


def _sparsity(mask: np.ndarray, cfg: ArrayConfig) -> np.ndarray:
    return _bins(np.where(mask, 1.0, -1.0), cfg.bins_sparsity)


def initial_states(record: TrainRecord, tiles, gmap: ConductanceMap, cfg: ArrayConfig):
    """Tile states after programming (LUT conductances mapped to bin states) and pair masks."""
    states, masks = [], []
    for t in tiles:
        sl = slice(*t.rows)
        g = np.concatenate([record[f"l{t.layer}_g0p"][sl], record[f"l{t.layer}_g0n"][sl]], axis=1)
        mask = np.ones((t.rows[1] - t.rows[0], t.n_weight_cols), dtype=bool)
        masks.append(mask)
        states.append(ArrayState(_bins(gmap.to_state(g), cfg.bins_weight), _sparsity(np.tile(mask, 2), cfg)))
    return states, masks


def _event(record: TrainRecord, e: int, tiles, states, masks, cfg: ArrayConfig) -> None:
    for k, t in enumerate(tiles):
        after = record[f"l{t.layer}_event_mask"][e][slice(*t.rows)]
        pruned = np.tile(masks[k] & ~after, 2)
        w = states[k].weight.copy()
        w[pruned] = -1.0
        masks[k] = after.copy()
        states[k] = ArrayState(w, _sparsity(np.tile(after, 2), cfg))


def n_updates(record: TrainRecord, max_updates: int | None = None, last_epoch: int | None = None) -> int:
    """Updates replayed: all, or those up to ``last_epoch``, at most ``max_updates``."""
    n = record.n_updates
    if last_epoch is not None:
        n = int(np.sum(record["update_epoch"] <= last_epoch))
    return n if max_updates is None else min(n, int(max_updates))


def replay(record: TrainRecord, wparams, sparams, run_op=run_array_fast, cfg: ArrayConfig = ArrayConfig(),
           options: SolverOptions = SolverOptions(), backend: str = "auto", max_updates: int | None = None,
           last_epoch: int | None = None, size: int = 64, on_update=None) -> Replay:
    """Run the record's updates (and its pruning/regrowth events) through ``run_op`` on every tile,
    chaining each tile's :class:`ArrayState`; ``on_update(u, n)`` after each update (progress)."""
    tiles = layout([record.shape(l) for l in range(record.n_layers)], size)
    gmap = ConductanceMap(wparams, record.meta["g_min"], record.meta["g_max"])
    states, masks = initial_states(record, tiles, gmap, cfg)
    stats = [ArrayStats(t.name, t.shape) for t in tiles]
    op = wparams.op
    n = n_updates(record, max_updates, last_epoch)
    for u in range(n):
        for _, e in record.events_before(u):
            _event(record, e, tiles, states, masks, cfg)
        for k, t in enumerate(tiles):
            sl = slice(*t.rows)
            for step in ("col", "row"):
                sides = record[f"l{t.layer}_{step}_sides"][u][:, sl]
                p, m = record[f"l{t.layer}_{step}_p"][u], record[f"l{t.layer}_{step}_m"][u]
                if step == "row":
                    p, m = p[sl], m[sl]
                for half, r, c, gate in fire_ops(step, p, m, sides[0], sides[1]):
                    sched = row_column_vau(r, c, op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
                    cols = slice(half * t.n_weight_cols, (half + 1) * t.n_weight_cols)
                    w0, c0 = time.perf_counter(), time.process_time()
                    res = run_op(wparams, sparams, ArrayState(states[k].weight[:, cols], _sparsity(gate, cfg)),
                                 sched, cfg, options, backend)
                    st = stats[k]
                    st.wall_s += time.perf_counter() - w0
                    st.cpu_s += time.process_time() - c0
                    w = states[k].weight.copy()
                    w[:, cols] = res.state.weight
                    states[k] = ArrayState(w, states[k].sparsity)
                    st.operations += 1
                    st.pulse_slots += int(np.abs(c).sum() + np.abs(r).max(initial=0))
                    st.cell_pulses += int((gate * (np.abs(r)[:, None] + np.abs(c)[None, :])).sum())
            stats[k].updates += 1
        if on_update:
            on_update(u + 1, n)
    if n == record.n_updates:
        for _, e in record.events_before(n):
            _event(record, e, tiles, states, masks, cfg)
    return Replay(tiles, states, masks, stats, n, gmap)


def reset_error(wparams, pulses: int = 64, n_domains: int = 8) -> float:
    """Distance from G_min, as a fraction of the range, of a fully-on cell after ``pulses`` depression
    pulses of the fast path (justifies setting a pruned cell's state to G_min)."""
    op = wparams.op
    sched = row_column_vau([-pulses], [0], op.v_pulse_up, op.v_pulse_dn, op.t_pulse, op.t_gap)
    g = FastArray(wparams, np.ones((1, 1), bool), n_domains=n_domains, s_init=1.0).apply(sched).conductance()
    ends = weight_conductance(wparams, ArrayState(np.array([[[-1.0]], [[1.0]]]), np.ones((2, 1, 1))))[:, 0]
    return float((g[0, 0] - ends[0]) / (ends[1] - ends[0]))
