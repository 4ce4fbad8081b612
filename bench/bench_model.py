"""Domain-update throughput of the numpy model: 4096 devices x 64 domains x 1000-pulse train.

A domain-step is one domain advanced through one pulse. The same run times the *floor kernel*: the least
numpy can do for the same domain updates (decay factors cached per drive level, in-place update, nothing
else: no reads, no output arrays), so ``ratio = domain_steps_per_s / floor_domain_steps_per_s`` does not
depend on the machine. Targets: >= 1e8 domain-steps/s on one core (issue 2); ratio >= 0.5 with and without
variation (issue 18). Run: ``.venv/bin/python bench/bench_model.py [--quick] [--json F]`` (median of repeats).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fefet_spice import presets, simulate, waveforms as wf  # noqa: E402
from fefet_spice.model.ferro import domain_activation, log_rate  # noqa: E402


def _amplitudes(p, n_pulses):
    """50 up pulses, 50 down pulses, repeated."""
    return np.where(np.arange(n_pulses) % 100 < 50, p.op.v_pulse_up, p.op.v_pulse_dn)


def floor_kernel(p, n_devices: int, n_pulses: int, seed: int = 1) -> float:
    """Seconds for the bare domain update of the same pulse train (the numpy floor).

    Without cycle-to-cycle variation: ``s *= a; s += b`` with ``a``, ``b`` cached per level. With it, the
    per-pulse factor ``exp(-progress * jitter)`` must be formed for every domain:
    ``buf = exp(-progress * jitter); s -= d; s *= buf; s += d``.
    """
    fp = p.ferro
    ea_up, ea_dn = domain_activation(fp)
    ea = {1: np.broadcast_to(ea_up, (n_devices, fp.n_domains)), -1: np.broadcast_to(ea_dn, (n_devices, fp.n_domains))}
    levels = {}
    for amp in (p.op.v_pulse_up, p.op.v_pulse_dn):
        d = 1 if amp > fp.v_imp else -1
        prog = np.exp(np.minimum(log_rate(abs(amp - fp.v_imp), ea[d], fp.alpha, fp.tau0) + np.log(p.op.t_pulse), 80))
        a = np.exp(-prog)
        levels[amp] = (d, prog, a, d * (1.0 - a))
    rng = np.random.default_rng(seed)
    s = np.full((n_devices, fp.n_domains), -1.0)
    buf = np.empty_like(s)
    sigma = p.sigma_c2c
    amps = _amplitudes(p, n_pulses)
    t0 = time.perf_counter()
    for amp in amps:
        d, prog, a, b = levels[amp]
        if sigma > 0:
            jitter = np.exp(sigma * rng.standard_normal((n_devices, 1)))
            np.multiply(prog, jitter, out=buf)
            np.negative(buf, out=buf)
            np.exp(buf, out=buf)
            s -= d
            s *= buf
            s += d
        else:
            s *= a
            s += b
    return time.perf_counter() - t0


def run(n_devices=4096, n_pulses=1000, repeats=3, nominal=True, reads=True):
    p = presets.get("weight")
    p = presets.nominal(p) if nominal else p
    w = wf.pulse_train(_amplitudes(p, n_pulses), p.op.t_pulse, gap=p.op.t_gap,
                       v_read_g=p.op.v_read_g if reads else None, t_read=p.op.t_read, v_read_d=p.op.v_read_d)
    simulate(p, w, n_devices=n_devices, seed=1)  # warm-up: first-touch of the large output arrays
    times, floors = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        simulate(p, w, n_devices=n_devices, seed=1)
        times.append(time.perf_counter() - t0)
        floors.append(floor_kernel(p, n_devices, n_pulses))
    med, med_floor = statistics.median(times), statistics.median(floors)
    steps = n_devices * p.ferro.n_domains * n_pulses
    return {"n_devices": n_devices, "n_domains": p.ferro.n_domains, "n_pulses": n_pulses,
            "variation": not nominal, "reads": reads, "median_s": med, "floor_median_s": med_floor,
            "domain_steps_per_s": steps / med, "floor_domain_steps_per_s": steps / med_floor,
            "ratio": med_floor / med, "target": 1e8, "target_ratio": 0.5}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="256 devices instead of 4096")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    n = 256 if args.quick else 4096
    results = [run(n_devices=n, nominal=True, repeats=args.repeats),
               run(n_devices=n, nominal=False, repeats=args.repeats)]
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
