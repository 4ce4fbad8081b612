"""Monte Carlo jobs of a conductance-update characterization: one job = one device sample.

A job runs, on one sampled device (device-to-device draw) with its own cycle-to-cycle noise:
* for each pulse pair (V_up, V_down, width): reset, ``n_pulses`` identical up pulses from G_min toward
  G_max, then ``n_pulses`` identical down pulses back, reading G before and after each pulse;
* the masked response (sparsity FeFET off) and the inhibit-disturb response (half-selected cell) with
  ``n_probe`` pulses of each polarity of the first pair.
Each job gets its own :class:`numpy.random.SeedSequence` child (``SeedSequence(seed).spawn``), so the
results do not depend on where or in which order jobs run. Jobs are plain picklable data and functions,
ready for a process pool or a Dask cluster.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace

import numpy as np

from .. import waveforms as wf
from ..errors import LimitError, ParamError, SimulatorError
from ..params import FeFETParams

BACKENDS = ("numpy", "ngspice")
MAX_PULSES = 10_000
MAX_DEVICES = 10_000
MAX_VOLTAGE = 100.0
"""Largest pulse amplitude [V] (a FeFET gate stack breaks down far below)."""
MIN_WIDTH, MAX_WIDTH = 1e-12, 1.0
"""Pulse width bounds [s]: below a picosecond or above a second is not a write pulse."""
TOPOLOGIES = ("A", "B")
MAX_TRAFFIC = 100_000
"""Most traffic pulses per device (``CharConfig.n_traffic``)."""
TRAFFIC_MIN_COUNT = 8
"""Fewest traffic samples a ΔG bin needs to take its statistics from the traffic (else the sweep's)."""
TRAFFIC_SEGMENT = 64
"""Sampled traffic pulses between two moves of the walk to a random point of the range."""


@dataclass(frozen=True)
class CharConfig:
    """What to characterize and how (all voltages [V], times [s])."""

    weight: FeFETParams
    """The weight FeFET."""
    sparsity: FeFETParams
    """The sparsity FeFET of the cell."""
    pulses: tuple[tuple[float, float, float], ...] = ()
    """(V_up > 0, V_down < 0, width) per pulse pair; empty = the weight FeFET's operating point."""
    n_pulses: int = 64
    """Identical pulses per branch (up, then down)."""
    n_devices: int = 64
    """Monte Carlo device samples (= jobs)."""
    seed: int = 0
    """Root seed; job i uses ``SeedSequence(seed).spawn(n_devices)[i]``."""
    n_probe: int = 16
    """Pulses per polarity of the masked and half-selected responses."""
    backend: str = "numpy"
    """'numpy' (compact model) or 'ngspice' (fefet_spice.spice.cell_pulse_response)."""
    topology: str = "B"
    """Cell topology, 'A' or 'B' (SPEC section 2)."""
    v_comp: float | None = None
    """Magnitude of the inhibit bias of unselected DOLs [V], applied with each pulse's sign; None = V_up
    (the half-selected cell then sees half the drive)."""
    extra: dict = field(default_factory=dict)
    """Free-form notes carried to the provenance (e.g. the params file path)."""
    n_traffic: int = 0
    """Pulses of training-like traffic per device with the first pulse pair (:func:`traffic_plan`): the
    LUT's ΔG statistics of that pair then come from them, not from the monotone sweeps. 0: none."""
    p_reverse: float = 0.65
    """Probability that a traffic pulse has the other sign than the one before it (on-chip training
    reverses most firings: 65.5 % in a paper-protocol run, ``bench/replay_gap.py``)."""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ParamError(f"backend: must be one of {BACKENDS}, got {self.backend!r}")
        if self.topology not in TOPOLOGIES:
            raise ParamError(f"topology: must be one of {TOPOLOGIES}, got {self.topology!r}")
        for name in ("n_pulses", "n_devices", "n_probe"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ParamError(f"{name}: must be a positive integer, got {getattr(self, name)!r}")
        for name, hi in (("n_pulses", MAX_PULSES), ("n_devices", MAX_DEVICES), ("n_probe", MAX_PULSES)):
            if getattr(self, name) > hi:
                raise LimitError(f"{name}: at most {hi}, got {getattr(self, name)!r}")
        for i, (vu, vd, width) in enumerate(self.pulse_pairs):
            if not all(np.isfinite((vu, vd, width))):
                raise ParamError(f"pulses[{i}]: every value must be a finite number, got {(vu, vd, width)}")
            if not (vu > 0 > vd and width > 0):
                raise ParamError(f"pulses[{i}]: need V_up > 0 > V_down and width > 0, got {(vu, vd, width)}")
            if max(vu, -vd) > MAX_VOLTAGE or not MIN_WIDTH <= width <= MAX_WIDTH:
                raise LimitError(f"pulses[{i}]: need |V| <= {MAX_VOLTAGE:g} V and {MIN_WIDTH:g} s <= width <= "
                                 f"{MAX_WIDTH:g} s, got {(vu, vd, width)}")
        if (isinstance(self.n_traffic, bool) or not isinstance(self.n_traffic, numbers.Integral)
                or not 0 <= self.n_traffic <= MAX_TRAFFIC):
            raise LimitError(f"n_traffic: an integer within 0..{MAX_TRAFFIC}, got {self.n_traffic!r}")
        if traffic_pulses_bound(self.n_pulses, int(self.n_traffic)) > 2 * MAX_TRAFFIC:
            raise LimitError(f"n_traffic: with n_pulses {self.n_pulses} the traffic's moves over the range make up "
                             f"to {traffic_pulses_bound(self.n_pulses, int(self.n_traffic))} pulses per device, more "
                             f"than {2 * MAX_TRAFFIC}; fewer traffic pulses or a shorter sweep")
        if 0 < self.n_traffic and self.n_traffic * self.n_devices < TRAFFIC_MIN_COUNT:
            raise ParamError(f"n_traffic: {self.n_traffic} pulse(s) on {self.n_devices} device(s) can never reach a "
                             f"bin of the ΔG table {TRAFFIC_MIN_COUNT} times, so no step would come from the traffic; "
                             f"about {-(-16 * 64 // self.n_devices)} per device fill most bins")
        if not (isinstance(self.p_reverse, (int, float)) and 0.0 <= self.p_reverse <= 1.0):
            raise ParamError(f"p_reverse: a probability within 0..1, got {self.p_reverse!r}")
        if self.v_comp is not None and not (np.isfinite(self.v_comp) and abs(self.v_comp) <= MAX_VOLTAGE):
            raise LimitError(f"v_comp: must be a finite voltage within +-{MAX_VOLTAGE:g} V, got {self.v_comp!r}")
        ups = [(vu, w) for vu, _, w in self.pulse_pairs]
        downs = [(vd, w) for _, vd, w in self.pulse_pairs]
        if len(set(ups)) < len(ups) or len(set(downs)) < len(downs):
            raise ParamError("pulses: two pairs share an up or a down pulse (amplitude and width); "
                             "each pulse kind may appear once")

    @property
    def pulse_pairs(self) -> tuple[tuple[float, float, float], ...]:
        op = self.weight.op
        return tuple(tuple(float(x) for x in p) for p in self.pulses) or ((op.v_pulse_up, op.v_pulse_dn, op.t_pulse),)


@dataclass(frozen=True)
class Job:
    """One Monte Carlo sample."""

    index: int
    seed: np.random.SeedSequence
    config: CharConfig


def traffic_pulses_bound(n_pulses: int, n_traffic: int) -> int:
    """Most pulses a :func:`traffic_plan` can hold: the sampled ones plus, before each segment of
    :data:`TRAFFIC_SEGMENT`, a move of at most ``n_pulses``."""
    return n_traffic + -(-n_traffic // TRAFFIC_SEGMENT) * n_pulses


def traffic_plan(n_pulses: int, n_traffic: int, p_reverse: float, rng: np.random.Generator):
    """Signs (+1 / -1, int8) of a traffic sequence from the reset state and which pulses are sampled.

    A walk in pulse counts within ``0..n_pulses`` (the sweep's range): every :data:`TRAFFIC_SEGMENT`
    sampled pulses it first moves monotonically to a random count (those pulses are not sampled: they
    spread the samples over the range), then each sampled pulse reverses the sign of the pulse before it
    with probability ``p_reverse`` (and always at an end of the range)."""
    signs, sampled = [], []
    c, last, done = 0, 1, 0
    while done < n_traffic:
        target = int(rng.integers(0, n_pulses + 1))
        if target != c:
            last = 1 if target > c else -1
            signs += [last] * abs(target - c)
            sampled += [False] * abs(target - c)
            c = target
        for _ in range(min(TRAFFIC_SEGMENT, n_traffic - done)):
            s = -last if rng.random() < p_reverse else last
            s = -s if not 0 <= c + s <= n_pulses else s
            signs.append(s)
            sampled.append(True)
            c, last, done = c + s, s, done + 1
    return np.array(signs, dtype=np.int8), np.array(sampled, dtype=bool)


def make_jobs(config: CharConfig) -> list[Job]:
    """One job per device sample, with independent spawned seeds."""
    seeds = np.random.SeedSequence(config.seed).spawn(config.n_devices)
    return [Job(i, s, config) for i, s in enumerate(seeds)]


def result_ok(result: dict, config: CharConfig) -> bool:
    """Whether a (cached) job result has the keys, shapes and finite values a job of ``config`` returns."""
    try:
        n_pairs, n, m = len(config.pulse_pairs), config.n_pulses, config.n_probe
        shapes = {"traj": (n_pairs, 2 * n + 1), "masked": (2 * m + 1,), "disturb": (2 * m + 1,)}
        n_energy = 0 if config.backend == "numpy" else n_pairs * (2 * n + 1)
        keys = {"traj", "masked", "disturb", "energy"} | (set(TRAFFIC_KEYS) if config.n_traffic else set())
        if set(result) != keys or np.shape(result["energy"]) != (n_energy,):
            return False
        if config.n_traffic and not _traffic_ok(result, config.n_traffic):
            return False
        return all(np.asarray(result[k]).shape == shp and np.asarray(result[k]).dtype.kind == "f"
                   and np.all(np.isfinite(result[k])) for k, shp in shapes.items())
    except (TypeError, ValueError):
        return False


TRAFFIC_KEYS = ("traffic", "traffic_sign", "traffic_sampled")
"""A job's traffic result: G before the first and after every pulse [S], each pulse's sign, sampled."""


def _traffic_ok(result: dict, n_traffic: int) -> bool:
    g, sign, smp = (np.asarray(result[k]) for k in TRAFFIC_KEYS)
    return (g.ndim == sign.ndim == smp.ndim == 1 and len(g) == len(sign) + 1 == len(smp) + 1
            and g.dtype.kind == "f" and bool(np.all(np.isfinite(g))) and sign.dtype.kind == "i"
            and bool(np.all(np.abs(sign) == 1)) and smp.dtype.kind == "b" and int(smp.sum()) == n_traffic)


def run_job(job: Job) -> dict[str, np.ndarray]:
    """Run one job with its backend; returns arrays ``traj`` (n_pairs, 2 n_pulses + 1), ``masked`` and
    ``disturb`` (2 n_probe + 1 each, starting state first) [S] and ``energy`` (per pulse [J], maybe empty)."""
    if job.config.backend == "ngspice":
        return _run_ngspice(job)
    return _run_numpy(job)


# --- numpy backend ---------------------------------------------------------------------------------

def _read_kw(p: FeFETParams) -> dict:
    op = p.op
    return dict(gap=op.t_gap, v_read_g=op.v_read_g, t_read=op.t_read, v_read_d=op.v_read_d)


def _branches(p: FeFETParams, pairs, n: int) -> list:
    op = p.op
    reset = [wf.hold(2.0 * min(pr[1] for pr in pairs), 100 * max(pr[2] for pr in pairs)),
             wf.read(op.v_read_g, op.t_read, op.v_read_d)]
    return reset, [(wf.identical_pulses(n, vu, w, **_read_kw(p)), wf.identical_pulses(n, vd, w, **_read_kw(p)))
                   for vu, vd, w in pairs]


def _trajectory(p, wave, devices, rng) -> np.ndarray:
    from ..model.simulate import simulate

    res = simulate(p, wave, devices=devices, seed=rng)
    return np.concatenate([res.g_initial, res.g_after_pulse[0]])


def _probe(job: Job, devices, rng, kind: str) -> np.ndarray:
    """Masked or half-selected response from mid-range: reset, n_pulses/2 normal up pulses, then
    n_probe affected up pulses and n_probe affected down pulses; returns G from the mid state on."""
    from . import cell

    cfg, p = job.config, job.config.weight
    vu, vd, w = cfg.pulse_pairs[0]
    reset, _ = _branches(p, cfg.pulse_pairs[:1], 1)
    prep = wf.identical_pulses(max(1, cfg.n_pulses // 2), vu, w, **_read_kw(p))
    test = wf.concat(wf.identical_pulses(cfg.n_probe, vu, w, **_read_kw(p)),
                     wf.identical_pulses(cfg.n_probe, vd, w, **_read_kw(p)))
    head = wf.concat(*reset, prep)
    wave = wf.concat(head, test)
    seg = np.zeros(len(wave), bool)
    seg[len(head):] = True
    if kind == "masked":
        if cfg.topology == "B":
            wave = cell.masked_waveform(wave, seg, cell.off_conductance(cfg.sparsity), cell.gate_capacitance(p))
    else:
        wave = cell.half_selected_waveform(wave, seg, vu if cfg.v_comp is None else cfg.v_comp)
    g = _trajectory(p, wave, devices, rng)
    return g[-(2 * cfg.n_probe + 1):]


def _run_numpy(job: Job) -> dict[str, np.ndarray]:
    from ..model.simulate import sample_devices

    cfg = job.config
    p = replace(cfg.weight, read_noise=0.0)  # noise-free trajectories; read noise is kept in the LUT
    rng = np.random.default_rng(job.seed)
    devices = sample_devices(p, 1, rng)
    reset, branches = _branches(p, cfg.pulse_pairs, cfg.n_pulses)
    traj = np.array([_trajectory(p, wf.concat(*reset, up, dn), devices, rng) for up, dn in branches])
    job_p = replace(job, config=replace(cfg, weight=p))
    out = {"traj": traj, "masked": _probe(job_p, devices, rng, "masked"),
           "disturb": _probe(job_p, devices, rng, "disturb"), "energy": np.zeros(0)}
    if cfg.n_traffic:
        sign, smp = traffic_plan(cfg.n_pulses, cfg.n_traffic, cfg.p_reverse, rng)
        vu, vd, w = cfg.pulse_pairs[0]
        wave = wf.concat(*reset, wf.pulse_train(np.where(sign > 0, vu, vd), w, **_read_kw(p)))
        out.update(traffic=_trajectory(p, wave, devices, rng), traffic_sign=sign, traffic_sampled=smp)
    return out


# --- ngspice backend -------------------------------------------------------------------------------

def cell_pulse_response():
    """``fefet_spice.spice.cell_pulse_response`` (the ngspice layer), or a clear :class:`SimulatorError`."""
    try:
        from .. import spice
    except ImportError as exc:
        raise SimulatorError("the ngspice backend needs fefet_spice.spice (ngspice layer) which is not "
                             f"available here ({exc}); use --backend numpy") from None
    fn = getattr(spice, "cell_pulse_response", None)
    if fn is None:
        try:
            from ..spice.bench import cell_pulse_response as fn
        except ImportError:
            raise SimulatorError("fefet_spice.spice has no cell_pulse_response(); update the ngspice layer") from None
    return fn


def ngspice_version() -> str | None:
    """First version line of ``ngspice --version`` (e.g. 'ngspice-39'), or None if it cannot run."""
    import re
    import subprocess

    try:
        out = subprocess.run(["ngspice", "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    hit = re.search(r"ngspice-\S+", out)
    return hit.group(0) if hit else None


def _run_ngspice(job: Job) -> dict[str, np.ndarray]:
    """ngspice job: one ``cell_pulse_response`` call per pulse pair (up then down from the reset state),
    one with the sparsity FeFET off and one half-selected. Each sequence starts with a 0 V pulse so that
    the first read is the starting conductance. The masked and half-selected probes start from the reset
    state (a call cannot switch the sparsity FeFET mid-sequence), unlike the numpy probes (mid-range);
    cycle-to-cycle noise enters as a log-normal jitter of each pulse's width (``sigma_c2c``: the numpy
    model's jitter of the switching progress, which for constant drive is the same thing)."""
    from ..model.simulate import sample_devices

    response = cell_pulse_response()
    cfg = job.config
    p = replace(cfg.weight, read_noise=0.0)
    rng = np.random.default_rng(job.seed)
    devices = sample_devices(p, 1, rng)
    n, m = cfg.n_pulses, cfg.n_probe

    def call(amps, width, **kw):
        amps = np.asarray(amps, float)
        widths = width * np.exp(p.sigma_c2c * rng.standard_normal(amps.shape)) if p.sigma_c2c > 0 else width
        out = response(p, cfg.sparsity, amps, widths, topology=cfg.topology, devices=devices, **kw)
        return np.asarray(out["g"], float), np.atleast_1d(np.asarray(out.get("energy_j", []), float))

    traj, energy = [], []
    for vu, vd, w in cfg.pulse_pairs:
        g, e = call([0.0] + [vu] * n + [vd] * n, w)
        traj.append(g)
        energy.append(e)
    vu, vd, w = cfg.pulse_pairs[0]
    probe = [0.0] + [vu] * m + [vd] * m
    masked, _ = call(probe, w, sparsity_on=False)
    disturb, _ = call(probe, w, half_selected=True)
    out = {"traj": np.array(traj), "masked": masked, "disturb": disturb, "energy": np.concatenate(energy)}
    if cfg.n_traffic:
        sign, smp = traffic_plan(n, cfg.n_traffic, cfg.p_reverse, rng)
        g, _ = call([0.0] + list(np.where(sign > 0, vu, vd)), w)
        out.update(traffic=g, traffic_sign=sign, traffic_sampled=smp)
    return out
