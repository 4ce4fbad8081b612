"""One FeFET as an ngspice subcircuit, from the same :class:`FeFETParams` as the numpy model.

Ports ``d g s``; instance parameters ``kea`` (relative Ea scale, device-to-device), ``dvt``
(threshold shift [V]) and ``s0_k`` (initial state of domain bin k). Inside:

* one state node ``q<k>`` per domain bin: a 1 pF capacitor (``C_STATE``) to a shared sense source ``Vsns`` and a
  B-source current ``ds/dt = r_up (1 - s) - r_dn (1 + s)`` with ``ln r`` exactly as
  :func:`fefet_spice.model.ferro.log_rate` (exponent capped at ``EXP_CAP``, drive floored at ``V_EPS``);
* drive ``fe = V(g) - (V(d) + V(s))/2``; ``vt = vt_mid + dvt - (MW/2) mean(s)``;
* the channel as a B-source with the expressions of :func:`fefet_spice.model.channel.intrinsic_current`
  between internal nodes, and the contact resistance as two real resistors R/2 (each internal node
  with :data:`C_CONTACT` to ground);
* linear gate capacitance ``eps0 eps_r A / t_fe`` (half to each of d and s) and the switching charge
  current ``A Ps d(mean s)/dt`` from the gate (two CCCS on ``Vsns``), so write energy is real.

SPICE uses ``n_bins`` equal-weight bins: the mid-quantiles of the same Ea distribution
(``domain_activation`` with ``n_domains = n_bins``). The stretch exponent ``beta != 1`` adds two progress
nodes per bin (:func:`domain_lines`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ParamError
from ..model.channel import thermal_voltage
from ..model.ferro import EXP_CAP, V_EPS, domain_activation
from ..params import FeFETParams, FerroParams
from .fmt import name, node, num

EPS0 = 8.8541878128e-12
"""Vacuum permittivity [F/m]."""
DEFAULT_BINS = 12
"""Domain bins per FeFET in SPICE: on the weight preset, 20 up + 20 down pulses, the max conductance
error vs the 64-domain numpy model is 4.2 % (4 bins), 1.6 % (8), 0.9 % (12), 0.6 % (16), 0.04 % (64)."""
C_STATE = 1e-12
"""State capacitance [F]: node voltage = s, B-source current = C_STATE ds/dt. A 1 F capacitor makes the
state currents (up to ~1e12 A) swamp ngspice's absolute current tolerance and Newton stalls at the
rail s = -1; 1 pF keeps them < 1 A. The decks set ``chgtol`` far below C_STATE (see deck.SolverOptions)."""
C_CONTACT = 1e-17
"""Capacitance [F] of each internal channel node (``di``, ``si``, behind the contact resistors) to ground:
the contact region's parasitic, 10 aF (RC = 1e-14 s with R/2 = 1 kohm, invisible on ns edges). Without
it the two nodes are algebraic: when a Newton attempt fails at a steep edge, ngspice retries with smaller
steps starting from the failed iterate, and only capacitors pull nodes back to the last accepted point,
so a channel turning on exponentially never reconverged and arrays with line resistance stopped with
"timestep too small" (issue 18: 16x16 VAU deck, ``trouble with node xw4_13.di`` once the internal
nodes are numbered first; the DIL tap named otherwise is just the first node disturbed)."""


@dataclass(frozen=True)
class SpiceDevice:
    """A FeFET as SPICE sees it: the parameters plus the binned activation voltages."""

    params: FeFETParams
    """The device parameters (the numpy model's)."""
    ea_up: np.ndarray
    """Up activation voltage per bin [V]."""
    ea_dn: np.ndarray
    """Down activation voltage per bin [V]."""

    @property
    def n_bins(self) -> int:
        return len(self.ea_up)

    @property
    def subckt_name(self) -> str:
        return name("name", self.params.name)

    @property
    def gate_capacitance(self) -> float:
        """Linear gate capacitance eps0 eps_r A / t_fe [F]."""
        fp = self.params.ferro
        return EPS0 * fp.eps_r * fp.area / fp.t_fe


def binned_device(params: FeFETParams, n_bins: int = DEFAULT_BINS) -> SpiceDevice:
    """Represent the device's activation-voltage distribution by ``n_bins`` equal-weight quantiles.

    The bins are quantiles of the same continuous distribution the numpy model samples with
    ``n_domains`` quantiles, so any bin count works, including more bins than domains.
    """
    name("name", params.name)  # reject before any text is built
    fp = params.ferro
    if fp.imp_n > 1 or fp.q_rev > 0.0:
        raise ParamError(f"{params.name}: the FeFET subcircuit has one imprint and a linear dielectric; "
                         f"this ferroelectric has imp_n = {fp.imp_n} and q_rev = {fp.q_rev:g} (the MFM capacitor "
                         "subcircuit of fefet_spice.spice.mfm carries both)")
    ea_up, ea_dn = binned_activation(params.ferro, n_bins)
    return SpiceDevice(params=params, ea_up=ea_up, ea_dn=ea_dn)


def _rate(a_k: float, node: str, fp) -> str:
    """``exp(ln r)``: ln r = -min(A_k u, EXP_CAP) - ln tau0 with A_k = Ea_k^alpha and
    u = (kea / max(drive, V_EPS))^alpha on a per-device node, i.e. exactly ``log_rate``."""
    return f"exp({num(-np.log(fp.tau0))}-min({num(a_k)}*v({node}),{num(EXP_CAP)}))"


def _u_node(node: str, drive: str, a_min: float, fp) -> str:
    """Per-device node u = min((kea/max(drive, V_EPS))^alpha, u_max); u_max = EXP_CAP / min(A_k)
    (beyond it every bin's exponent is capped anyway, so the cap changes nothing but node size)."""
    u_max = EXP_CAP / a_min
    # below d_cap = (A_min/EXP_CAP)^(1/alpha) every bin is capped: flooring the drive there keeps pwr()
    # bounded even while Newton wanders (ngspice aborts on overflow), and changes no rate
    d_cap = max(V_EPS, 0.999 * (a_min / EXP_CAP) ** (1.0 / fp.alpha))
    return (f"B{node} {node} 0 V=min(pwr(kea/max({drive},kea*{num(d_cap)}),{num(fp.alpha)}),"
            f"{num(u_max)})")


RESET_LN_RATE = math.log(1e-12)
"""beta != 1: a reversal resets the switching progress of the other direction at the rate
``RESET_MAX * sigmoid((ln r_fast - RESET_LN_RATE) / RESET_WIDTH)`` [1/s], ``r_fast`` the rate of the
fastest bin of the new direction. The numpy model resets when a segment's largest progress ``r dt``
exceeds 1e-17, i.e. at r above 1e-17/dt (1e-17 to 1e-8 /s for segments of 1 s to 1 ns): the sigmoid is
centred at 1e-12 /s, complete above ~1e-11 /s and negligible below ~1e-20 /s. A sigmoid of the log-rate
(rather than a gain on the rate) keeps the Jacobian bounded, which floating nodes need."""
RESET_WIDTH = 0.5
"""Width of the reset sigmoid in e-folds of the rate [-]."""
RESET_MAX = 1e10
"""Full reset rate [1/s] (a 0.1 ns time constant). The old progress only matters once the drive reverses
again, so the reset needs to be complete within the next opposite segment (a few ns), not fast."""
H_CAP_EXP = 2.0 * EXP_CAP
"""beta != 1: progress is stored scaled, ``g = h / h_cap`` with ``h_cap = H_CAP_EXP^(1/beta)`` (beyond it
the switched fraction is 1 within exp(-160)); the factor ``h^(beta-1)`` uses ``min(g, 1) h_cap``."""
G_SAT = 100.0
"""``dg/dt = (r / h_cap)(1 - g / G_SAT)``: g saturates smoothly at G_SAT, so the reset current
``C_STATE RESET_MAX g`` is at most 1 A after any drive (an unbounded h made Newton fail on floating SPL
nodes). Relative error of h: g / (2 G_SAT), under 0.3 % wherever the switched fraction is not yet 1 (g < 0.5)."""
H_SHIFT = 1e-6
"""``h^(beta-1)`` is singular at h = 0 (its derivative for any beta < 2), which stalls Newton on floating
nodes: the subcircuit uses ``(h + H_SHIFT)^(beta-1)``. The switched fraction is then off by at most
``H_SHIFT^beta`` for beta < 1 (2.5e-4 at beta = 0.6) and ``beta H_SHIFT^beta`` for beta > 1 (1.5e-9 at 1.5)."""


def binned_activation(fp: FerroParams, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Up and down activation voltages [V] of ``n_bins`` equal-weight bins: mid-quantiles of the same
    distribution the numpy model samples (``domain_activation`` with ``n_domains = n_bins``)."""
    n = int(n_bins)
    if n < 1:
        raise ParamError(f"n_bins must be >= 1, got {n_bins!r}")
    step = fp.ea_cond * fp.imp_n
    if n % step:
        raise ParamError(f"n_bins must be a multiple of ea_cond * imp_n = {step} for this ferroelectric, got {n}")
    return domain_activation(replace(fp, n_domains=n))


def state_sum(n_bins: int) -> str:
    """Expression ``v(q0)+...+v(q<n-1>)``: the sum of the bin states made by :func:`domain_lines`."""
    return "+".join(f"v(q{i})" for i in range(n_bins))


def domain_lines(fp: FerroParams, ea_up: np.ndarray, ea_dn: np.ndarray, drive: str,
                 sense: str = "qx", v_imp: float | None = None, first: int = 0, tag: str = "") -> list[str]:
    """The domain bins of a ferroelectric driven by ``drive`` (an expression in volts, e.g. ``v(fe)``).

    Reusable by any subcircuit (FeFET gate stack, MFM capacitor). Emits the per-device nodes ``uup``,
    ``udn`` and one state node ``q<k>`` per bin (value = s_k in [-1, 1], a ``C_STATE`` capacitor to node
    ``sense``, so a 0 V source from ``sense`` to ground carries ``C_STATE * sum ds_k/dt``). The enclosing
    ``.subckt`` must declare the parameters ``kea`` and ``s0_<k>`` (initial states). ``v_imp``, ``first``
    and ``tag`` let one subcircuit hold several imprint groups: the group's imprint (default
    ``fp.v_imp``), the number of its first bin and a suffix of its per-group nodes.

    ``beta = 1``: ``ds/dt = r_up (1 - s) - r_dn (1 + s)``, exactly the numpy update. ``beta != 1`` (SPEC
    1.1): per bin the progress since the last reversal in each direction, ``hu<k>`` and ``hd<k>``
    (``dh/dt = r``, stored as ``h / h_cap`` (:data:`G_SAT`), reset when the drive reverses, see
    :data:`RESET_LN_RATE`), and
    ``ds/dt = beta h^(beta-1) [r_up (1 - s)]`` (and down alike): the ODE form of the numpy model's
    ``s = s0 + (d - s0)(1 - exp(-h^beta))`` with ``s0`` the state at the reversal, for any drive; the
    guards :data:`G_SAT`, :data:`H_SHIFT` and the finite reset keep it within 0.2 % of the numpy model
    (beta 1.5 and 3, ``bench/bench_beta.py``).
    """
    k = len(ea_up)
    vimp = num(fp.v_imp if v_imp is None else v_imp)
    uu, ud, ku, kd = f"uup{tag}", f"udn{tag}", f"kup{tag}", f"kdn{tag}"
    a_up, a_dn = np.asarray(ea_up) ** fp.alpha, np.asarray(ea_dn) ** fp.alpha
    lines = [_u_node(uu, f"{drive}-{vimp}", float(a_up.min()), fp),
             _u_node(ud, f"{vimp}-{drive}", float(a_dn.min()), fp)]
    c = num(C_STATE)
    if fp.beta == 1.0:
        for j in range(k):
            i = first + j
            up, dn = _rate(a_up[j], uu, fp), _rate(a_dn[j], ud, fp)
            lines.append(f"C{i} q{i} {sense} {c} ic={{s0_{i}}}")
            lines.append(f"B{i} 0 q{i} I={c}*({up}*(1-v(q{i}))-{dn}*(1+v(q{i})))")
        return lines
    for kn, u, a in ((ku, uu, a_up), (kd, ud, a_dn)):
        ln_fast = f"{num(-np.log(fp.tau0) - RESET_LN_RATE)}-min({num(float(a.min()))}*v({u}),{num(EXP_CAP)})"
        lines.append(f"B{kn} {kn} 0 V={num(RESET_MAX)}/(1+exp(-({ln_fast})*{num(1.0 / RESET_WIDTH)}))")
    beta, bm1 = num(fp.beta), num(fp.beta - 1.0)
    h_cap = H_CAP_EXP ** (1.0 / fp.beta)
    inv_cap = num(1.0 / h_cap)
    h0 = num(H_SHIFT)
    for j in range(k):
        i = first + j
        up, dn = _rate(a_up[j], uu, fp), _rate(a_dn[j], ud, fp)
        for h, r, reset in ((f"hu{i}", up, kd), (f"hd{i}", dn, ku)):
            lines.append(f"C{h} {h} 0 {c} ic=0")
            lines.append(f"B{h} 0 {h} I={c}*({inv_cap}*{r}*(1-{num(1.0 / G_SAT)}*v({h}))-v({reset})*v({h}))")
        fu = f"{beta}*pwr({num(h_cap)}*min(max(v(hu{i}),0),1)+{h0},{bm1})"
        fd = f"{beta}*pwr({num(h_cap)}*min(max(v(hd{i}),0),1)+{h0},{bm1})"
        lines.append(f"C{i} q{i} {sense} {c} ic={{s0_{i}}}")
        lines.append(f"B{i} 0 q{i} I={c}*({fu}*{up}*(1-v(q{i}))-{fd}*{dn}*(1+v(q{i})))")
    return lines


SP_CLAMP = 1e4
"""Clamp of softplus arguments [-]: |x| = 1e4 is |V| > 700 V, far outside any physical bias, but it keeps
helper nodes bounded while Newton wanders (ngspice aborts on floating-point overflow)."""


def _sp(x: str) -> str:
    """softplus(x) = max(x, 0) + ln(1 + exp(-|x|)), as in :func:`fefet_spice.model.channel.softplus`,
    with x clamped to +/- SP_CLAMP."""
    xc = f"min(max({x},{num(-SP_CLAMP)}),{num(SP_CLAMP)})"
    return f"max({xc},0)+ln(1+exp(-abs({xc})))"


def _channel_lines(dev: SpiceDevice, vd: str, vs: str, nd: str, ns: str) -> list[str]:
    """The channel of :func:`~fefet_spice.model.channel.intrinsic_current` between nodes ``nd`` and ``ns``.

    The softplus terms are helper nodes (B voltage sources) so that ngspice differentiates small
    expressions: ``sm = sp((Vg-Vt)/S)``, ``ss = sp((Vg-Vt-n Vs)/S)``, ``sd = sp((Vg-Vt-n Vd)/S)`` with
    S = 2 n phi_t; then ``I = I0 / (1 + theta S sm) (ss^2 - sd^2) + g_floor (Vd - Vs)``.
    """
    ch = dev.params.channel
    phi = thermal_voltage(ch.temperature)
    scale = 2.0 * ch.n_ss * phi
    i0 = 2.0 * ch.n_ss * ch.cox * (ch.width / ch.length) * phi * phi * ch.mu0
    inv, n = num(1.0 / scale), num(ch.n_ss)
    lines = [f"Bsm sm 0 V={_sp(f'(v(g)-v(vt))*{inv}')}",
             f"Bss ss 0 V={_sp(f'(v(g)-v(vt)-{n}*{vs})*{inv}')}",
             f"Bsd sd 0 V={_sp(f'(v(g)-v(vt)-{n}*{vd})*{inv}')}"]
    cur = f"{num(i0)}/(1+{num(ch.theta * scale)}*v(sm))*(v(ss)*v(ss)-v(sd)*v(sd))"
    if ch.amb_ratio > 0.0:
        va = num(ch.vt_amb)
        lines += [f"Bam am 0 V={_sp(f'({va}-v(g))*{inv}')}",
                  f"Bad ad 0 V={_sp(f'({va}-v(g)+{n}*{vd})*{inv}')}",
                  f"Bas as 0 V={_sp(f'({va}-v(g)+{n}*{vs})*{inv}')}"]
        cur += f"+{num(ch.amb_ratio * i0)}/(1+{num(ch.theta * scale)}*v(am))*(v(ad)*v(ad)-v(as)*v(as))"
    lines.append(f"Bch {nd} {ns} I={cur}+{num(ch.g_floor)}*({vd}-{vs})")
    return lines


def subckt(dev: SpiceDevice, contact_caps: bool = True) -> str:
    """The ``.subckt`` text of one FeFET (deterministic; names validated, numbers ``%.9e``). ``contact_caps``:
    the :data:`C_CONTACT` capacitors on the internal channel nodes (needed where lines are resistive; the
    ideal-line array decks leave them out, they cost there without a benefit)."""
    p, fp = dev.params, dev.params.ferro
    k = dev.n_bins
    s0 = " ".join(f"s0_{i}=-1" for i in range(k))
    lines = [f"* FeFET {dev.subckt_name}: {k} domain bins, beta={_beta_text(fp.beta)} (fefet_spice.spice.device)",
             f".subckt {dev.subckt_name} d g s params: kea=1 dvt=0 {s0}",
             "Bfe fe 0 V=v(g)-0.5*(v(d)+v(s))",
             "Vsns qx 0 0"]
    lines += domain_lines(fp, dev.ea_up, dev.ea_dn, "v(fe)")
    lines.append(f"Bvt vt 0 V={num(p.vt_mid)}+dvt-{num(0.5 * p.mw / k)}*({state_sum(k)})")
    rc = p.channel.r_contact
    if rc > 0.0:
        lines += [f"Rd d di {num(0.5 * rc)}", f"Rs s si {num(0.5 * rc)}"]
        if contact_caps:
            lines += [f"Cdi di 0 {num(C_CONTACT)}", f"Csi si 0 {num(C_CONTACT)}"]
        lines += _channel_lines(dev, "v(di)", "v(si)", "di", "si")
    else:
        lines += _channel_lines(dev, "v(d)", "v(s)", "d", "s")
    cg = num(0.5 * dev.gate_capacitance)
    gain = num(0.5 * fp.area * fp.ps / (k * C_STATE))
    lines += [f"Cgd g d {cg}", f"Cgs g s {cg}", f"Fpd g d Vsns {gain}", f"Fps g s Vsns {gain}",
              f".ends {dev.subckt_name}"]
    return "\n".join(lines) + "\n"


def _beta_text(beta: float) -> str:
    return "1" if beta == 1.0 else num(beta)


def instance(ref: str, d: str, g: str, s: str, dev: SpiceDevice, state=None, kea: float = 1.0,
             dvt: float = 0.0) -> str:
    """An ``X`` line instantiating ``dev`` with initial bin states ``state`` (default all -1)."""
    state = np.full(dev.n_bins, -1.0) if state is None else np.asarray(state, dtype=float)
    if state.shape != (dev.n_bins,):
        raise ParamError(f"instance {ref}: state needs {dev.n_bins} bins, got shape {state.shape}")
    s0 = " ".join(f"s0_{i}={num(v)}" for i, v in enumerate(state))
    return (f"{name('instance', 'X' + ref)} {node(d)} {node(g)} {node(s)} "
            f"{dev.subckt_name} kea={num(kea)} dvt={num(dvt)} {s0}")
