"""Second compiler check: the Verilog-A compiled to native code (VerilogAE, OpenVAF's LLVM back-end).

:mod:`fefet_spice.spice.va_check` interprets OpenVAF's MIR. VerilogAE compiles the same file through the
OpenVAF front-end and LLVM code generation -- the path that produces an ``.osdi`` -- into a native library
and evaluates the variables marked ``(* retrieve *)``: the bin derivatives ``ds_k``, the gate charges
``qgd``/``qgs`` (capacitor: ``qp``) and the channel current ``ich``. They are compared with numpy,
vectorized over the points, in groups of points sharing one random parameter draw.

verilogae is a test dependency, imported only when a check runs.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import FefetError
from ..model.ferro import domain_activation
from ..params import FeFETParams, FerroParams
from .device import EPS0
from .va_check import I_ABS, CheckResult, _channel, _draw, fefet_reference, state_derivative
from .verilog_a import fefet_param_values, ferro_param_values


def load(path: str | Path):
    """Compile ``path`` to native code with VerilogAE."""
    import verilogae

    try:
        return verilogae.load(str(path))
    except BaseException as exc:  # compile errors come back as exceptions or Rust panics
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise FefetError(f"{path}: VerilogAE does not compile it: {exc}") from None


def _split(branch: str, nodes: list[str]) -> tuple[str, str | None]:
    """``br_gd`` -> (g, d), ``br_x3`` -> (x3, None): the unique split into known node names."""
    rest = branch.removeprefix("br_")
    hits = [(a, rest[len(a):] or None) for a in nodes
            if rest.startswith(a) and (rest[len(a):] in nodes or rest == a)]
    if len(hits) != 1:
        raise FefetError(f"cannot resolve VerilogAE branch {branch!r} into nodes {nodes}")
    return hits[0]


def _eval(model, name: str, node_v: dict[str, np.ndarray], values: dict[str, float]) -> np.ndarray:
    fn = model.functions[name]
    volts = {}
    for br in fn.voltages:
        a, b = _split(br, list(node_v))
        volts[br] = node_v[a] - (node_v[b] if b else 0.0)
    return np.asarray(fn.eval(temperature=300.0, voltages=volts, **{k: values[k] for k in fn.parameters}))


def _rel(got, ref, floor=0.0):
    return float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), floor) if floor else
                        np.abs(got - ref) / np.abs(ref)))


def _ds_err(model, fp, kea, s, drive, node_v, values, n_bins):
    ea_up, ea_dn = domain_activation(replace(fp, n_domains=n_bins))
    worst, fast = 0.0, 0
    for k in range(n_bins):
        ref = state_derivative(fp, kea * ea_up[k], kea * ea_dn[k], s[:, k], drive)
        got = _eval(model, f"ds_{k}", node_v, values)
        worst = max(worst, _rel(got, ref, 1e-300))
        fast += int(np.sum(np.abs(ref) > 1e3))
    return worst, fast


def check_fefet_native(path, params: FeFETParams, n_bins: int, n_points: int = 1000, seed: int = 0,
                       v_gate: float = 10.0, groups: int = 8) -> CheckResult:
    """``n_points`` random points in ``groups`` parameter draws; worst errors as in ``check_fefet``."""
    model = load(path)
    rng = np.random.default_rng(seed)
    worst, counts, m = np.zeros(3), np.zeros(2, dtype=int), n_points // groups
    for _ in range(groups):
        fp, kea = _draw(rng, params.ferro)
        p = replace(params, ferro=fp, channel=_channel(rng, params.channel))
        dvt = float(0.1 * rng.standard_normal())
        vg, vd, vs = rng.uniform(-v_gate, v_gate, m), rng.uniform(-1.5, 1.5, m), rng.uniform(-0.5, 0.5, m)
        s = rng.uniform(-1.0 + 1e-6, 1.0 - 1e-6, (m, n_bins))
        cur, node_v, drive, q_ref = fefet_reference(p, dvt, vg, vd, vs, s)
        values = fefet_param_values(p) | {"kea": kea, "dvt": dvt}
        ich = _eval(model, "ich", node_v, values)
        i_err = float(np.max(np.abs(ich - cur) / (np.abs(cur) + I_ABS / 1e-6)))
        q = _eval(model, "qgd", node_v, values) + _eval(model, "qgs", node_v, values)
        ds, fast = _ds_err(model, fp, kea, s, drive, node_v, values, n_bins)
        worst = np.maximum(worst, (i_err, _rel(q, q_ref), ds))
        counts += (int(np.sum(np.abs(cur) > 1e-9)), fast)
    return CheckResult(model.module_name, m * groups, *map(float, worst), *map(int, counts))


def check_fecap_native(path, fp: FerroParams, n_bins: int, n_points: int = 1000, seed: int = 0,
                       v_max: float = 10.0, groups: int = 8) -> CheckResult:
    """The capacitor module: charge ``qp`` and the bin derivatives against numpy."""
    model = load(path)
    rng = np.random.default_rng(seed)
    worst, counts, m = np.zeros(3), np.zeros(2, dtype=int), n_points // groups
    for _ in range(groups):
        f, kea = _draw(rng, fp)
        vp, vn = rng.uniform(-v_max, v_max, m), rng.uniform(-1.0, 1.0, m)
        s = rng.uniform(-1.0 + 1e-6, 1.0 - 1e-6, (m, n_bins))
        node_v = {"p": vp, "n": vn} | {f"x{k}": s[:, k] for k in range(n_bins)}
        values = ferro_param_values(f) | {"kea": kea}
        q = _eval(model, "qp", node_v, values)
        q_ref = EPS0 * f.eps_r * f.area / f.t_fe * (vp - vn) + f.area * f.ps * s.mean(axis=1)
        ds, fast = _ds_err(model, f, kea, s, vp - vn, node_v, values, n_bins)
        worst = np.maximum(worst, (0.0, _rel(q, q_ref), ds))
        counts[1] += fast
    return CheckResult(model.module_name, m * groups, *map(float, worst), *map(int, counts))
