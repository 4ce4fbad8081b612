"""Measurement plans of the reference data set and their synthetic execution.

A plan is a list of :class:`~fefet_spice.readers.Measurement` skeletons (gate/drain columns and
protocol metadata, no current yet). :func:`execute` turns each plan entry into a waveform with the
same protocol the fit uses (:mod:`fefet_spice.fit.protocol`), runs it on a :class:`DiscreteDevice`
and fills in instrument readings.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..fit import protocol
from ..model.ferro import merz_switching_voltage
from ..params import FeFETParams
from ..readers.base import Measurement
from .device import DiscreteDevice, GeneratorConfig, run
from .instrument import measure_conductance, measure_current

INSTRUMENT = "synthetic B1500A + B1530A (fefet_spice.generator)"


@dataclass(frozen=True)
class PlanEntry:
    """One file of the data set: its name and the measurement without readings."""

    name: str
    skeleton: Measurement


def _round(x: float, q: float = 0.1) -> float:
    return float(np.round(x / q) * q)


def dc_switching_voltage(params: FeFETParams, dwell: float) -> float:
    """Median up-switching drive [V] during a staircase stair of ``dwell`` [s]."""
    fp = params.ferro
    return float(merz_switching_voltage(fp.ea_up, dwell, fp.alpha, fp.tau0))


def _staircase(points, step: float) -> np.ndarray:
    out = [np.array([points[0]], float)]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.ceil(abs(b - a) / step - 1e-9)))
        out.append(a + (b - a) * np.arange(1, n + 1) / n)
    return np.round(np.concatenate(out), 6)


def _sweep(name, points, step, dwell, vd, reset_v, reset_t) -> PlanEntry:
    vg = _staircase(points, step)
    t = dwell * np.arange(1, len(vg) + 1)
    meta = {"instrument": INSTRUMENT, "vd": vd, "reset_v": reset_v, "reset_t": reset_t,
            "turning_points": " ".join(f"{p:g}" for p in points), "sweep_step": step, "dwell": dwell}
    return PlanEntry(name, Measurement("idvg", {"t": t, "vg": vg}, meta, name))


def plan(params: FeFETParams, kind: str) -> list[PlanEntry]:
    """The measurement plan of a weight (``kind='weight'``) or sparsity device."""
    op = params.op
    step = 0.05 if kind == "weight" else 0.1
    dwell = 0.05
    vc = dc_switching_voltage(params, dwell)
    v_full = _round(1.55 * vc)
    reset = dict(reset_v=-v_full, reset_t=0.1)
    entries = []
    for frac in (0.8, 1.1, 1.55):
        vmax = _round(frac * vc)
        entries.append(_sweep(f"idvg_pm{vmax:g}V_vd0.1", [-vmax, vmax, -vmax], step, dwell, 0.1, **reset))
    for vd in (0.05, 1.0):
        entries.append(_sweep(f"idvg_pm{v_full:g}V_vd{vd:g}", [-v_full, v_full, -v_full], step, dwell, vd,
                              **reset))
    vc_r = _round(vc, 0.05)
    entries.append(_sweep("minor_a", [-v_full, vc_r, -v_full], step, dwell, 0.1, **reset))
    entries.append(_sweep("minor_b", [-v_full, v_full, -vc_r, v_full, -v_full], step, dwell, 0.1, **reset))
    vt_hi = params.vt_mid + 0.5 * params.mw
    vd = np.round(np.arange(0.0, 1.5 + 1e-9, 0.05), 6)
    for state, rv in (("erased", -v_full), ("programmed", v_full)):
        for vg in (_round(vt_hi + 0.2), _round(vt_hi + 1.2)):
            meta = {"instrument": INSTRUMENT, "vg": vg, "reset_v": rv, "reset_t": 0.1, "state": state}
            entries.append(PlanEntry(f"idvd_{state}_vg{vg:g}V", Measurement(
                "idvd", {"t": dwell * np.arange(1, len(vd) + 1), "vd": vd}, meta, "plan")))
    w0 = op.t_pulse
    if kind == "weight":  # identical sub-coercive pulses: gradual update
        amp0, n, d = op.v_pulse_up, 64, 0.3
    else:  # binary device: probe the kinetics around its one-pulse half-switching voltage
        amp0, n, d = _round(float(merz_switching_voltage(params.ferro.ea_up, w0, params.ferro.alpha,
                                                         params.ferro.tau0))), 32, 0.4
    for amp, width in ((amp0 - d, w0), (amp0, w0), (amp0 + d, w0), (amp0, w0 / 5), (amp0, 5 * w0)):
        amps = np.concatenate([[0.0], np.full(n, amp), np.full(n, -amp)])
        widths = np.concatenate([[0.0], np.full(2 * n, width)])
        entries.append(_pulse_entry(f"pulse_a{amp:g}V_w{width * 1e6:g}us", params, amps, widths))
    return entries


def _pulse_entry(name: str, params: FeFETParams, amps, widths) -> PlanEntry:
    op = params.op
    meta = {"instrument": INSTRUMENT, "vd": op.v_read_d, "v_read_g": op.v_read_g, "t_read": op.t_read,
            "t_gap": op.t_gap, "reset_v": 2.0 * op.v_pulse_dn, "reset_t": 100 * op.t_pulse}
    cols = {"pulse": np.arange(len(amps)), "amplitude": amps, "width": widths}
    return PlanEntry(name, Measurement("pulse", cols, meta, "plan"))


def holdout_plan(params: FeFETParams, rng: np.random.Generator, n: int = 120) -> PlanEntry:
    """A pulse train of random polarity blocks, amplitudes and widths that the fit never sees."""
    op = params.op
    amps, widths = [0.0], [0.0]
    sign = 1.0
    while len(amps) < n + 1:
        block = int(rng.integers(5, 25))
        for _ in range(block):
            amps.append(sign * float(rng.choice([op.v_pulse_up - 0.2, op.v_pulse_up, op.v_pulse_up + 0.2])))
            widths.append(float(rng.choice([0.5, 1.0, 2.0])) * op.t_pulse)
        sign = -sign
    return _pulse_entry("holdout_train", params, np.array(amps[: n + 1]), np.array(widths[: n + 1]))


def execute(entry: PlanEntry, dev: DiscreteDevice, cfg: GeneratorConfig,
            rng: np.random.Generator) -> Measurement:
    """Run one plan entry on ``dev`` and return the measurement with instrument readings."""
    m = entry.skeleton
    wave, rows = protocol.build(m)
    _, current, vd = run(dev, wave, rng)
    cols = dict(m.columns)
    meta = dict(m.metadata)
    if m.kind == "pulse":
        cols["g"] = measure_conductance(current[rows] / vd[rows], dev.params.read_noise, float(vd[rows[0]]),
                                        cfg, rng)
        cols["t"] = np.cumsum(wave.dt)[rows]
    else:
        cols["id"] = measure_current(current[rows], cfg, rng)
        meta["compliance"] = cfg.compliance
    return replace(m, columns=cols, metadata=meta, source=entry.name)
