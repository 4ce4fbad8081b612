"""A two-terminal metal-ferroelectric-metal (MFM) capacitor as an ngspice subcircuit.

Ports ``t b`` (top, bottom electrode); instance parameters ``s0_k`` (initial state of domain bin k) and
``v0`` (initial voltage of the dielectric, for ``uic`` transients starting at a non-zero bias).
Same domain bins and rate expressions as the FeFET subcircuit of :mod:`.device` (built by its
``binned_device``, ``_u_node`` and ``_rate``), driven by ``fe = V(t) - V(b)``. Around them:

* linear dielectric ``eps0 eps_r A / t_fe`` between t and b;
* switching charge current ``A Ps d(mean s)/dt`` from t to b (a CCCS on the state sense source);
* leakage ``1 / (g_leak A)`` between t and b when ``g_leak > 0``.

The charge delivered to ``t`` is ``A Q`` with ``Q`` of :func:`fefet_spice.model.capacitor.charge`
(offset aside). The domain bins are :func:`.device.domain_lines` (beta != 1 with its progress nodes),
one set per imprint group (``imp_n``), and the saturating reversible polarization ``q_rev tanh(V/v_rev)``
is a ``ddt`` B-source current between t and b.
"""
from __future__ import annotations

import numpy as np

from ..errors import ParamError
from ..model.capacitor import CapacitorParams, dielectric_charge
from ..model.ferro import imprint_levels
from ..params import FeFETParams
from .deck import SolverOptions, vsource
from .device import C_STATE, DEFAULT_BINS, EPS0, SpiceDevice, binned_activation, domain_lines
from .fmt import check_deck, name, node, num


def mfm_subckt(dev: SpiceDevice, cp: CapacitorParams = CapacitorParams()) -> str:
    """``.subckt <name>_mfm t b`` of the device's ferroelectric (deterministic text)."""
    fp = dev.params.ferro
    k = dev.n_bins
    sub = name("name", f"{dev.params.name}_mfm")
    s0 = " ".join(f"s0_{i}=1" for i in range(k))
    beta = "1" if fp.beta == 1.0 else num(fp.beta)
    lines = [f"* MFM capacitor {sub}: {k} domain bins, beta={beta} (fefet_spice.spice.mfm)",
             f".subckt {sub} t b params: v0=0 kea=1 {s0}", "Bfe fe 0 V=v(t)-v(b)", "Vsns qx 0 0"]
    levels = imprint_levels(fp)
    per = k // len(levels)
    for g, vimp in enumerate(levels):
        sl = slice(g * per, (g + 1) * per)
        lines += domain_lines(fp, dev.ea_up[sl], dev.ea_dn[sl], "v(fe)", v_imp=float(vimp), first=g * per,
                              tag="" if len(levels) == 1 else f"_{g}")
    lines.append(f"Cfe t b {num(EPS0 * fp.eps_r * fp.area / fp.t_fe)} ic={{v0}}")
    if fp.q_rev > 0.0:  # saturating reversible polarization: its charge A q_rev tanh(V / v_rev) on t
        lines.append(f"Brev t b I=ddt({num(fp.area * fp.q_rev)}*tanh(v(fe)/{num(fp.v_rev)}))")
    lines.append(f"Fsw t b Vsns {num(fp.area * fp.ps / (k * C_STATE))}")
    if cp.g_leak > 0.0:
        lines.append(f"Rlk t b {num(1.0 / (cp.g_leak * fp.area))}")
    lines.append(f".ends {sub}")
    return "\n".join(lines) + "\n"


def mfm_device(params: FeFETParams, n_bins: int = DEFAULT_BINS) -> SpiceDevice:
    """Binned activation voltages of ``params.ferro`` (same quantiles as the numpy model with
    ``n_domains = n_bins``; a multiple of ``ea_cond * imp_n``)."""
    name("name", params.name)
    ea_up, ea_dn = binned_activation(params.ferro, n_bins)
    return SpiceDevice(params=params, ea_up=ea_up, ea_dn=ea_dn)


def mfm_deck(dev: SpiceDevice, cp: CapacitorParams, t, v, options: SolverOptions = SolverOptions()) -> str:
    """A deck driving the capacitor with the piecewise-linear ``v(t)`` of a trace (bins start at ``p_init``)."""
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    if len(t) < 2 or np.any(np.diff(t) <= 0):
        raise ParamError("mfm_deck: times must be increasing, at least two samples")
    sub = name("name", f"{dev.params.name}_mfm")
    pts = " ".join(f"{num(a - t[0])} {num(b)}" for a, b in zip(t, v))
    s0 = " ".join(f"s0_{i}={num(cp.p_init)}" for i in range(dev.n_bins))
    lines = [f"* MFM Q-V testbench: {sub} (fefet_spice.spice.mfm)", mfm_subckt(dev, cp).rstrip("\n"),
             vsource("t", "t", "0", f"PWL({pts})"), f"X1 {node('t')} 0 {sub} v0={num(v[0])} {s0}"]
    step = float(np.min(np.diff(t)))
    lines += options.lines(float(t[-1] - t[0]), step)
    lines += [".save v(t) i(vt)", ".end"]
    return check_deck("\n".join(lines) + "\n")


def mfm_charge(params: FeFETParams, cp: CapacitorParams, t, v, n_bins: int = DEFAULT_BINS,
               options: SolverOptions = SolverOptions(), backend: str = "auto") -> np.ndarray:
    """Charge per area [C/m^2] delivered to the top electrode at times ``t``, simulated in ngspice
    (plus the dielectric charge at t[0], the initial polarization and the offset, as in numpy)."""
    from . import runner

    dev = mfm_device(params, n_bins)
    vec = runner.run(mfm_deck(dev, cp, t, v, options), backend=backend)
    time = vec["time"]
    cur = -vec["i(vt)"]  # SPICE: positive source current flows into + terminal from outside
    q = np.concatenate(([0.0], np.cumsum(0.5 * (cur[1:] + cur[:-1]) * np.diff(time))))
    fp = params.ferro
    q0 = fp.ps * cp.p_init + float(dielectric_charge(fp, float(v[0]))) + cp.q_offset
    return np.interp(np.asarray(t, dtype=float) - t[0], time, q) / fp.area + q0
