"""Check the generated Verilog-A against the numpy model with a real Verilog-A compiler (openvaf-py).

``openvaf_py.compile_va`` runs the OpenVAF front-end (parser, semantic checks, MIR lowering, automatic
differentiation); ``run_init_eval`` interprets the module's MIR at given branch voltages and parameters
and returns, per node, the resistive (current) and reactive (charge) residuals. :func:`check_fefet` and
:func:`check_fecap` draw random operating points (terminal voltages, bin states, variation and kinetic
parameters) from an explicit seed, evaluate the compiled module and the numpy model
(:mod:`fefet_spice.model`) at each, and return the worst relative errors.

openvaf-py is a test dependency: it is imported only when a check runs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import FefetError
from ..model.channel import drain_current
from ..model.capacitor import dielectric_charge
from ..model.ferro import domain_activation, domain_imprint, switched_fraction, switching_rates
from ..params import FeFETParams, FerroParams
from .device import C_STATE, EPS0
from .verilog_a import fefet_param_values, ferro_param_values

_BRANCH = re.compile(r"^V\((\w+)(?:,(\w+))?\)$")
I_ABS = 1e-15
"""Absolute current tolerance [A] (added to the relative one)."""


def compile_file(path: str | Path):
    """Compile a ``.va`` file with OpenVAF (openvaf-py); the single module in it."""
    import openvaf_py

    try:
        modules = openvaf_py.compile_va(str(path))
    except BaseException as exc:  # the Rust side reports compile errors as exceptions or panics
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise FefetError(f"{path}: OpenVAF does not compile it: {exc}") from None
    if len(modules) != 1:
        raise FefetError(f"{path}: expected one Verilog-A module, found {len(modules)}")
    return modules[0]


def _given(value: float) -> float:
    """``value`` moved by at most one ulp so that openvaf-py reads its "given" flag as true.

    openvaf-py 0.1.5 passes an instance parameter's value and its given-flag under one dict key, and the
    interpreter reads the flag as the lowest bit of the float: an even mantissa means "not given" and the
    module silently falls back to the default. A one-ulp change (relative 1e-16) is far below every tolerance."""
    bits = np.float64(value).view(np.int64)
    if value == 0.0 or bits & 1:
        return float(value)
    return float(np.nextafter(value, np.inf))


def _inputs(module, node_v: dict[str, float], values: dict[str, float]) -> dict[str, float]:
    """The interpreter's inputs: branch voltages from node voltages (ground = 0), parameters, mfactor = 1."""
    inputs: dict[str, float] = {}
    for names, kinds in ((module.param_names, module.param_kinds),
                         (module.init_param_names, module.init_param_kinds)):
        for name, kind in zip(names, kinds):
            if kind == "voltage":
                a, b = _BRANCH.match(name).groups()
                inputs[name] = node_v[a] - (node_v[b] if b else 0.0)
            elif kind == "param":
                inputs[name] = values[name]
            elif kind == "sysfun":
                inputs[name] = 1.0  # mfactor
            elif kind == "param_given":
                inputs[name] = _given(values[name])
            else:  # hidden_state, current: computed inside
                inputs.setdefault(name, 0.0)
    return inputs


def evaluate(module, node_v: dict[str, float], values: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Residuals ``node -> (current, charge)`` of ``module`` at node voltages ``node_v`` (ground = 0)."""
    residuals, _ = module.run_init_eval(_inputs(module, node_v, values))
    nodes = [n["name"] for n in module.get_osdi_descriptor()["nodes"]]
    return dict(zip(nodes, residuals))


def state_derivative(fp: FerroParams, ea_up, ea_dn, s, drive, v_imp=None):
    """ds/dt of every bin from the numpy model: the time derivative of its exact solution
    ``s = s_rail + (d - s_rail) switched_fraction(h + r t, beta)`` for a bin switching from the opposite
    rail (``s_rail = -d``), with r from :func:`switching_rates`; central difference in t. ``v_imp``: the
    imprint of every bin (default ``fp.v_imp``)."""
    r_up, r_dn = switching_rates(drive, ea_up, ea_dn, fp.alpha, fp.tau0, fp.v_imp if v_imp is None else v_imp)
    d = np.where(r_up > 0, 1.0, np.where(r_dn > 0, -1.0, 0.0))
    rate = np.where(d > 0, r_up, r_dn)
    q = 0.5 * (1.0 - d * s)  # fraction not yet switched
    h = (-np.log(np.where(d != 0, q, 0.5))) ** (1.0 / fp.beta)
    dh = 1e-5 * h
    slope = (switched_fraction(h + dh, fp.beta) - switched_fraction(h - dh, fp.beta)) / (2.0 * dh)
    return 2.0 * d * rate * slope


@dataclass(frozen=True)
class CheckResult:
    """Worst errors over the operating points of one module."""

    module: str
    n_points: int
    current_rel: float
    """max |I_va - I_np| / (|I_np| + 1e-15 A / 1e-6) -- <= 1e-6 means within 1e-6 rel + 1e-15 A."""
    charge_rel: float
    """max relative error of the charges."""
    dsdt_rel: float
    """max relative error of the state derivatives."""
    n_conducting: int = 0
    """points whose drain current exceeds 1 nA (FeFET)."""
    n_switching: int = 0
    """bin evaluations with |ds/dt| > 1e3 / s."""

    def ok(self, i_rel: float = 1e-6, q_rel: float = 1e-6, ds_rel: float = 1e-4) -> bool:
        return self.current_rel <= i_rel and self.charge_rel <= q_rel and self.dsdt_rel <= ds_rel


def _draw(rng: np.random.Generator, fp: FerroParams):
    """Random kinetic parameters and d2d scale around ``fp`` (half the points keep beta = 1)."""
    beta = 1.0 if rng.random() < 0.5 else float(rng.uniform(0.5, 3.0))
    dist = fp.ea_dist if rng.random() < 0.5 else ("lognormal" if fp.ea_dist == "gaussian" else "gaussian")
    sigma = fp.ea_sigma if dist == fp.ea_dist else float(rng.uniform(0.02, 0.1))  # ln-spread vs volts
    fp = replace(fp, beta=beta, v_imp=float(rng.uniform(-0.3, 0.3)), ea_corr=float(rng.uniform(-1, 1)),
                 ea_dist=dist, ea_sigma=sigma)
    kea = float(np.exp(0.05 * rng.standard_normal()))
    return fp, kea


def _channel(rng: np.random.Generator, ch):
    """Half the points keep the channel as given; the others draw temperature, mobility degradation
    and an ambipolar branch (off in the presets, so it would otherwise go unchecked)."""
    if rng.random() < 0.5:
        return ch
    r_contact = 0.0 if rng.random() < 0.5 else float(rng.uniform(0, 1e4))  # 0: nodes di, si collapse
    return replace(ch, temperature=float(rng.uniform(250, 400)), theta=float(rng.uniform(0, 0.5)),
                   amb_ratio=float(rng.uniform(0, 0.5)), vt_amb=float(rng.uniform(-4, -1)),
                   n_ss=float(rng.uniform(1.0, 2.5)), r_contact=r_contact)


def _states(rng, n_bins):
    return rng.uniform(-1.0 + 1e-6, 1.0 - 1e-6, n_bins)


def _ferro_checks(fp, kea, s, drive, res, values_q, n_bins):
    """Relative errors of the state derivatives and state charges; number of bins switching faster
    than 1e3/s (so that the check is known to cover the kinetics, not only idle bins)."""
    ea_up, ea_dn = domain_activation(replace(fp, n_domains=n_bins))
    ref = state_derivative(fp, kea * ea_up, kea * ea_dn, s, drive, domain_imprint(replace(fp, n_domains=n_bins)))
    got = np.array([-res[f"x{k}"][0] / C_STATE for k in range(n_bins)])
    qs = np.array([res[f"x{k}"][1] / C_STATE for k in range(n_bins)])
    ds = np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300))
    ds = 0.0 if np.array_equal(got, ref) else ds
    q_state = np.max(np.abs(qs - s) / np.abs(s))
    return ds, max(q_state, values_q), int(np.sum(np.abs(ref) > 1e3))


def _rel(got, ref):
    return abs(got - ref) / abs(ref) if ref != 0 else abs(got)


def fefet_reference(p: FeFETParams, dvt: float, vg, vd, vs, s):
    """numpy's reference at operating points (scalars, or arrays of points with bins on the last axis of
    ``s``): channel current [A], node voltages incl. the contact nodes ``di``/``si`` [V] (bins as ``x{k}``),
    the ferroelectric drive [V] and the gate charge [C]."""
    fp = p.ferro
    s_mean = np.mean(s, axis=-1)
    cur = drain_current(p.channel, vg, vd, p.vt_mid + dvt - 0.5 * p.mw * s_mean, vs)
    half_r = 0.5 * p.channel.r_contact
    node_v = {"g": vg, "d": vd, "s": vs, "di": vd - cur * half_r, "si": vs + cur * half_r}
    node_v |= {f"x{k}": s[..., k] for k in range(np.shape(s)[-1])}
    drive = vg - 0.5 * (vd + vs)
    q_ref = EPS0 * fp.eps_r * fp.area / fp.t_fe * drive + fp.area * fp.ps * s_mean
    return cur, node_v, drive, q_ref


def check_fefet(path: str | Path, params: FeFETParams, n_bins: int, n_points: int = 1000, seed: int = 0,
                v_gate: float = 10.0) -> CheckResult:
    """Compile ``path`` and compare it with numpy at ``n_points`` random operating points."""
    module = compile_file(path)
    rng = np.random.default_rng(seed)
    worst = np.zeros(3)
    counts = np.zeros(2, dtype=int)
    for _ in range(n_points):
        fp, kea = _draw(rng, params.ferro)
        dvt = float(0.1 * rng.standard_normal())
        p = replace(params, ferro=fp, channel=_channel(rng, params.channel))
        vg, vd, vs = rng.uniform(-v_gate, v_gate), rng.uniform(-1.5, 1.5), rng.uniform(-0.5, 0.5)
        s = _states(rng, n_bins)
        cur, nv, drive, q_ref = fefet_reference(p, dvt, vg, vd, vs, s)
        cur, half_r = float(cur), 0.5 * p.channel.r_contact
        nv = {k: float(v) for k, v in nv.items()}
        values = fefet_param_values(p) | {"kea": kea, "dvt": dvt} | {f"s0_{k}": -1.0 for k in range(n_bins)}
        values["dsmax"] = 0.05
        res = evaluate(module, nv, values)
        scale = abs(cur) + I_ABS / 1e-6
        # terminal current: through the contact resistor, or the channel itself when di/si collapse onto d/s
        i_err = max(abs(res["d"][0] + res["di"][0] - cur), abs(res["s"][0] + res["si"][0] + cur)) / scale
        if half_r > 0:
            i_err = max(i_err, abs(res["d"][0] - cur) / scale, abs(res["s"][0] + cur) / scale)
        counts[0] += abs(cur) > 1e-9
        q_err = max(_rel(res["g"][1], q_ref), _rel(-(res["d"][1] + res["s"][1]), q_ref))
        ds, q_err, fast = _ferro_checks(fp, kea, s, drive, res, q_err, n_bins)
        counts[1] += fast
        worst = np.maximum(worst, (i_err, q_err, ds))
    return CheckResult(module.name, n_points, *map(float, worst), *map(int, counts))


def check_fecap(path: str | Path, fp: FerroParams, n_bins: int, n_points: int = 1000, seed: int = 0,
                v_max: float = 10.0) -> CheckResult:
    """Compile the capacitor module at ``path`` and compare it with numpy at random operating points."""
    module = compile_file(path)
    rng = np.random.default_rng(seed)
    worst = np.zeros(3)
    counts = np.zeros(2, dtype=int)
    for _ in range(n_points):
        f, kea = _draw(rng, fp)
        vp, vn = rng.uniform(-v_max, v_max), rng.uniform(-1.0, 1.0)
        s = _states(rng, n_bins)
        nv = {"p": vp, "n": vn} | {f"x{k}": float(v) for k, v in enumerate(s)}
        values = ferro_param_values(f) | {"kea": kea, "dsmax": 0.05} | {f"s0_{k}": -1.0 for k in range(n_bins)}
        res = evaluate(module, nv, values)
        q_ref = f.area * float(dielectric_charge(f, vp - vn)) + f.area * f.ps * s.mean()
        q_err = max(_rel(res["p"][1], q_ref), _rel(-res["n"][1], q_ref))
        i_err = max(abs(res["p"][0]), abs(res["n"][0])) / (I_ABS / 1e-6)  # no conduction path
        ds, q_err, fast = _ferro_checks(f, kea, s, vp - vn, res, q_err, n_bins)
        counts[1] += fast
        worst = np.maximum(worst, (i_err, q_err, ds))
    return CheckResult(module.name, n_points, *map(float, worst), *map(int, counts))


def jacobian_error(module, node_v: dict[str, float], values: dict[str, float], rel_step: float = 1e-6) -> float:
    """Worst mismatch of OpenVAF's analytic Jacobian (resistive and reactive) against central differences
    of the residuals, each entry relative to the largest entry of its row; ``inf`` if any entry is not finite.

    A simulator's Newton iteration uses this Jacobian, so a wrong or NaN derivative would break
    convergence even where the residuals are right."""
    nodes = [n["name"] for n in module.get_osdi_descriptor()["nodes"]]
    base = _jacobian(module, node_v, values)
    if not all(np.isfinite(v).all() for v in base.values()):
        return float("inf")
    worst = 0.0
    for j, col in enumerate(nodes):
        h = rel_step * max(1.0, abs(node_v[col]))
        up = evaluate(module, node_v | {col: node_v[col] + h}, values)
        dn = evaluate(module, node_v | {col: node_v[col] - h}, values)
        for i, row in enumerate(nodes):
            fd = (np.array(up[row]) - np.array(dn[row])) / (2 * h)
            an = base.get((i, j), np.zeros(2))
            scale = np.max([np.abs(v) for (r, _), v in base.items() if r == i] + [np.full(2, 1e-30)], axis=0)
            worst = max(worst, float(np.max(np.abs(fd - an) / scale)))
    return worst


def _jacobian(module, node_v, values) -> dict[tuple[int, int], np.ndarray]:
    _, jac = module.run_init_eval(_inputs(module, node_v, values))
    return {(int(r), int(c)): np.array([res, rea]) for r, c, res, rea in jac}
