"""Domain-update throughput of the numpy model: 4096 devices x 64 domains x 1000-pulse train.

Target (issue 2): >= 1e8 domain-steps per second on one core. A domain-step is one domain advanced
through one pulse. Run: ``.venv/bin/python bench/bench_model.py`` (prints JSON, median of repeats).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fefet_spice import presets, simulate, waveforms as wf  # noqa: E402


def run(n_devices=4096, n_pulses=1000, repeats=3, nominal=True, reads=True):
    p = presets.get("weight")
    p = presets.nominal(p) if nominal else p
    amps = np.where(np.arange(n_pulses) % 100 < 50, p.op.v_pulse_up, p.op.v_pulse_dn)
    w = wf.pulse_train(amps, p.op.t_pulse, gap=p.op.t_gap, v_read_g=p.op.v_read_g if reads else None,
                       t_read=p.op.t_read, v_read_d=p.op.v_read_d)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        simulate(p, w, n_devices=n_devices, seed=1)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    steps = n_devices * p.ferro.n_domains * n_pulses
    return {"n_devices": n_devices, "n_domains": p.ferro.n_domains, "n_pulses": n_pulses,
            "variation": not nominal, "reads": reads, "median_s": med,
            "domain_steps_per_s": steps / med, "target": 1e8}


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    results = [run(n_devices=256 if quick else 4096, nominal=True),
               run(n_devices=256 if quick else 4096, nominal=False)]
    print(json.dumps(results, indent=1))
