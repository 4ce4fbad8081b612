"""Transient check of the Verilog-A kinetics: integrate the compiled module's state equations in time.

The unit tests hold the residuals of ``netlists/*.va`` to numpy point by point. This script integrates the
state equations of the compiled ``fecap.va`` (OpenVAF MIR through openvaf-py: ds_k/dt = -residual(x_k)/C)
with a stiff solver (scipy Radau, rtol 1e-9) through pulse waveforms and compares the polarization with
numpy's exact piecewise-constant update (:class:`fefet_spice.model.simulate.DomainEngine`):

* ``one_pulse``: P after one pulse from -Ps, amplitudes 3.6..5.2 V x widths 10 ns..100 us;
* ``train``: 10 identical +3.9 V / 1 us pulses then 10 of -3.9 V (accumulation, then reversal from a
  partly switched state: where the memoryless SPICE form of the stretch exponent departs from numpy).

Run: ``.venv/bin/python bench/bench_verilog_a.py`` (prints JSON; about 1 minute).
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fefet_spice import presets  # noqa: E402
from fefet_spice.model.ferro import domain_activation  # noqa: E402
from fefet_spice.model.simulate import DeviceSample, DomainEngine, DomainState  # noqa: E402
from fefet_spice.spice.device import C_STATE  # noqa: E402
from fefet_spice.spice.va_check import compile_file, evaluate  # noqa: E402
from fefet_spice.spice.verilog_a import ferro_param_values  # noqa: E402

N_BINS = 12


def va_rhs(module, fp, n):
    values = ferro_param_values(fp) | {"kea": 1.0, "dsmax": 0.05} | {f"s0_{k}": -1.0 for k in range(n)}

    def rhs(_t, s, v):
        nv = {"p": v, "n": 0.0} | {f"x{k}": float(x) for k, x in enumerate(s)}
        res = evaluate(module, nv, values)
        return np.array([-res[f"x{k}"][0] / C_STATE for k in range(n)])
    return rhs


def run_va(rhs, segments, n):
    s = np.full(n, -1.0)
    out = []
    for v, dt in segments:
        sol = solve_ivp(rhs, (0.0, dt), s, method="Radau", rtol=1e-9, atol=1e-12, args=(v,))
        s = sol.y[:, -1]
        out.append(s.mean())
    return np.array(out)


def run_numpy(fp, segments, n):
    ea_up, ea_dn = domain_activation(replace(fp, n_domains=n))
    eng = DomainEngine(fp, DeviceSample(ea_up[None], ea_dn[None], np.zeros(1)))
    st = DomainState(np.full((1, n), -1.0))
    out = []
    for v, dt in segments:
        eng.apply(st, v, dt)
        out.append(st.p_norm[0])
    return np.array(out)


def main() -> int:
    base = presets.nominal(presets.get("weight")).ferro
    path = ROOT / "netlists" / "fecap.va"
    module = compile_file(path)
    report = {"file": "netlists/fecap.va", "n_bins": N_BINS, "cases": {}}
    t0 = time.monotonic()
    for beta in (1.0, 1.5):
        fp = replace(base, beta=beta)
        rhs = va_rhs(module, fp, N_BINS)
        errs = []
        for amp in (3.6, 4.0, 4.4, 4.8, 5.2):
            for width in (1e-8, 1e-7, 1e-6, 1e-5, 1e-4):
                seg = [(amp, width)]
                errs.append(abs(run_va(rhs, seg, N_BINS)[-1] - run_numpy(fp, seg, N_BINS)[-1]))
        train = [(3.9, 1e-6), (0.0, 1e-6)] * 10 + [(-3.9, 1e-6), (0.0, 1e-6)] * 10
        pv, pn = run_va(rhs, train, N_BINS), run_numpy(fp, train, N_BINS)
        report["cases"][f"beta={beta}"] = {
            "one_pulse_max_abs_err_P_over_Ps": float(max(errs)),
            "train_up_max_abs_err_P_over_Ps": float(np.max(np.abs(pv[:20] - pn[:20]))),
            "train_down_max_abs_err_P_over_Ps": float(np.max(np.abs(pv[20:] - pn[20:]))),
            "train_P_over_Ps_after_up_va_numpy": [float(pv[19]), float(pn[19])],
            "train_P_over_Ps_after_down_va_numpy": [float(pv[-1]), float(pn[-1])],
        }
    report["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
