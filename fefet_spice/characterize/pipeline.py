"""Conductance-update characterization of a weight FeFET in its cell -> synapse LUT.

:func:`characterize` runs the Monte Carlo jobs of :mod:`.jobs` (one device sample each) through
:mod:`.runner` and assembles a :class:`~fefet_spice.lut.core.SynapseLUT`: ΔG per pulse vs G (mean,
std, uniform quantiles 0..1 usable by CrossSim), G-vs-pulse trajectories, distinguishable ``levels`` per
polarity, ``masked_ratio`` (mean |ΔG| with the sparsity FeFET off over the unmasked mean |ΔG|),
``disturb_ratio`` (the same for the half-selected cell) and provenance.
"""
from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import asdict, dataclass

import numpy as np

from .. import __version__
from ..errors import ParamError
from ..io.atomic import dumps
from ..lut.core import PulseKind, SynapseLUT, branch_levels, from_trajectories, with_step_samples
from ..params import to_dict
from .jobs import TRAFFIC_KEYS, TRAFFIC_MIN_COUNT, CharConfig, cell_pulse_response, make_jobs, ngspice_version, result_ok, run_job
from .runner import JobCache, fingerprint, run_jobs

QUANTILES = tuple(np.round(np.linspace(0.0, 1.0, 21), 12))
"""Uniform CDF points 0, 0.05, ..., 1 (CrossSim's DG_LOOKUP wants a uniform grid with both ends)."""


@dataclass(frozen=True)
class Characterization:
    """Result of :func:`characterize`."""

    lut: SynapseLUT
    """The LUT, with levels, masked_ratio, disturb_ratio and provenance in ``meta``."""
    traj: np.ndarray
    """G vs pulse number per device, shape (n_devices, n_pairs, 2 n_pulses + 1) [S]."""
    masked: np.ndarray
    """Masked response per device, shape (n_devices, 2 n_probe + 1) [S]."""
    disturb: np.ndarray
    """Half-selected response per device, shape (n_devices, 2 n_probe + 1) [S]."""
    energy: np.ndarray
    """Write energy per pulse per device [J] (ngspice backend; empty with numpy)."""


def params_hash(config: CharConfig) -> str:
    """sha256 of the canonical JSON of the weight and sparsity parameter sets."""
    text = dumps({"weight": to_dict(config.weight), "sparsity": to_dict(config.sparsity)})
    return hashlib.sha256(text.encode()).hexdigest()


def describe(config: CharConfig) -> dict:
    """JSON-ready description of the run (what the cache fingerprint covers)."""
    skip = ("weight", "sparsity", "extra") + (() if config.n_traffic else ("n_traffic", "p_reverse"))
    d = {k: v for k, v in asdict(config).items() if k not in skip}  # (no traffic: as before it existed)
    d.update(weight=to_dict(config.weight), sparsity=to_dict(config.sparsity), pulses=config.pulse_pairs)
    return d


def _simulator(config: CharConfig) -> tuple[str, str | None, str | None]:
    if config.backend == "numpy":
        return "fefet_spice numpy compact model", __version__, None
    cell_pulse_response()  # a clear SimulatorError before any job if the ngspice layer is missing
    netlist = f"fefet_spice.spice.cell_pulse_response(topology={config.topology!r})"
    return "ngspice", ngspice_version(), netlist


def _ratio(resp: np.ndarray, ref: np.ndarray) -> float | None:
    """Mean |ΔG| of ``resp`` over that of ``ref``; None when the reference does not move."""
    ref_step = float(np.mean(np.abs(np.diff(ref, axis=-1))))
    return float(np.mean(np.abs(np.diff(resp, axis=-1)))) / ref_step if ref_step > 0 else None


def characterize(config: CharConfig, executor: str = "pool", workers: int = 2, scheduler=None,
                 cache: str | os.PathLike | None = None, n_g: int = 64, progress=None) -> Characterization:
    """Run the characterization; ``cache`` (a folder) makes it resumable. ``progress`` (optional) is
    called as ``progress(n_done, n_total)`` in the driver."""
    simulator, version, netlist = _simulator(config)
    jobs = make_jobs(config)
    results: dict[int, dict] = {}
    store = JobCache(cache, fingerprint({**describe(config), "fefet_spice": __version__})) if cache is not None else None
    if store is not None:
        for job in jobs:
            hit = store.load(job.index)
            if hit is not None and result_ok(hit, config):  # a damaged or tampered entry is recomputed
                results[job.index] = hit
    todo = [job for job in jobs if job.index not in results]

    def on_result(job, result):
        results[job.index] = result
        if store is not None:
            store.store(job.index, result)
        if progress is not None:
            progress(len(results), len(jobs))

    run_jobs(run_job, todo, on_result, executor=executor, workers=workers, scheduler=scheduler)
    order = sorted(results)
    traj = np.stack([results[i]["traj"] for i in order])
    masked = np.stack([results[i]["masked"] for i in order])
    disturb = np.stack([results[i]["disturb"] for i in order])
    energy = np.stack([results[i]["energy"] for i in order])
    n = config.n_pulses
    trajs: dict[PulseKind, np.ndarray] = {}
    for j, (vu, vd, w) in enumerate(config.pulse_pairs):
        trajs[PulseKind(+1, vu, w)] = traj[:, j, : n + 1]
        trajs[PulseKind(-1, vd, w)] = traj[:, j, n:]
    op = config.weight.op
    meta = {
        "source": f"characterize/{config.backend}", "device": config.weight.name, "seed": config.seed,
        "n_devices": config.n_devices, "n_pulses": n, "topology": config.topology,
        "operating_point": {"v_read_g": op.v_read_g, "v_read_d": op.v_read_d, "t_read": op.t_read},
        "masked_ratio": _ratio(masked, traj[:, 0]), "disturb_ratio": _ratio(disturb, traj[:, 0]),
        "probe_start": "mid-range" if config.backend == "numpy" else "reset (G_min): down pulses cannot move it",
        "provenance": {"params_sha256": params_hash(config), "netlist": netlist, "simulator": simulator,
                       "simulator_version": version, "seed": config.seed, "backend": config.backend,
                       "fefet_spice": __version__, "python": platform.python_version(), **config.extra},
    }
    if energy.size:
        meta["energy_per_pulse_j"] = float(np.mean(energy))
    lut = from_trajectories(trajs, n_g=n_g, read_noise=config.weight.read_noise, quantile_levels=QUANTILES,
                            meta=meta)
    if config.n_traffic:
        lut = _from_traffic(lut, config, [results[i] for i in order])
    lut.meta["levels"] = branch_levels(lut)
    return Characterization(lut=lut, traj=traj, masked=masked, disturb=disturb, energy=energy)


def _from_traffic(lut: SynapseLUT, config: CharConfig, results: list[dict]) -> SynapseLUT:
    """The first pulse pair's ΔG statistics from the jobs' traffic (:func:`.jobs.traffic_plan`)."""
    g0, dg, sign, rev = [], [], [], []
    for r in results:
        g, s, smp = (np.asarray(r[k]) for k in TRAFFIC_KEYS)
        g0.append(g[:-1][smp])
        dg.append(np.diff(g)[smp])
        sign.append(s[smp])
        rev.append((s[1:] != s[:-1])[smp[1:]])
    g0, dg, sign, rev = (np.concatenate(a) for a in (g0, dg, sign, rev))
    vu, vd, w = config.pulse_pairs[0]
    kinds = {PulseKind(+1, vu, w): sign > 0, PulseKind(-1, vd, w): sign < 0}
    out, taken = with_step_samples(lut, {k: (g0[sel], dg[sel]) for k, sel in kinds.items()},
                                   min_count=TRAFFIC_MIN_COUNT)
    if not any(taken.values()):  # the table would be the sweeps' under a traffic label: meaningless
        per = int(np.ceil(16 * len(lut.g_grid) / max(config.n_devices, 1)))
        raise ParamError(f"traffic (--traffic) {config.n_traffic}: the {dg.size} sampled pulses of {config.n_devices} "
                         f"device(s) reached no bin of the ΔG table {TRAFFIC_MIN_COUNT} times, so no step would come from the "
                         f"traffic; give more traffic pulses (about {per} per device fill most bins) or "
                         "leave --traffic out")
    out.meta["dg_source"] = {
        "from": "traffic", "n_traffic": config.n_traffic, "p_reverse": config.p_reverse,
        "reversal_fraction": float(rev.mean()) if rev.size else None, "bins_from_traffic": taken,
        "about": "mean, std and quantiles of ΔG of the first pulse pair from random-sign pulses as on-chip "
                 "training fires them (each reverses the last with probability p_reverse); bins the traffic "
                 "did not reach keep the monotone sweeps' values; trajectories and levels are the sweeps'"}
    return out
