"""The FeFET compact model as Verilog-A, generated from the same :class:`FeFETParams` as numpy and ngspice.

Three modules: one per FeFET (ports ``d g s``) and a two-terminal ferroelectric capacitor (ports
``p n``). Every physical quantity is a Verilog-A ``parameter`` with its unit, description and range
(``from``), defaulting to the values of the parameter object; device-to-device variation enters through
the instance parameters ``kea`` (relative Ea scale) and ``dvt`` (threshold shift [V]), the initial bin
states through ``s0_<k>``. Inside a module:

* one internal node ``x<k>`` per equal-weight domain bin; its potential is the bin state s_k in [-1, 1]:
  ``I(x_k) <+ ddt(C s_k) - C ds_k/dt`` with ``C = C_STATE`` (as in the ngspice subcircuit). The rates
  are :func:`fefet_spice.model.ferro.switching_rates` (exponent capped at ``EXP_CAP``, drive floored at
  ``V_EPS``); the stretch exponent ``beta`` enters as the SPEC 1.1 ODE
  ``dp/dt = beta r (1-p) (-ln(1-p))^(1-1/beta)`` with p the fraction switched from the opposite rail,
  i.e. ``ds/dt = beta [r_up (1-s) L((1+s)/2) - r_dn (1+s) L((1-s)/2)]``, ``L(p) = (-ln(1-p))^(1-1/beta)``,
  p clamped to ``[P_CLAMP, 1-P_CLAMP]`` inside L only (beta = 1 gives the plain law exactly);
* the activation voltage of bin k is computed from the parameters ``ea_up, ea_dn, ea_sigma, ea_corr,
  ea_lognormal`` and the bin's fixed Gaussian quantiles (exactly :func:`~fefet_spice.model.ferro.domain_activation`);
* ``$bound_step(dsmax / max_k |ds_k/dt|)``: no step moves a bin state by more than ``dsmax``;
* during a static analysis (DC operating point, also the one before a transient) each state is held
  at ``s0_<k>`` (a 1 S conductance to that value): the kinetics act in time-domain analyses only (no
  analog operator sits inside the ``analysis()`` condition: ``ddt`` is contributed unconditionally);
* FeFET: the channel of :func:`~fefet_spice.model.channel.intrinsic_current` between internal nodes
  ``di``/``si`` behind the two contact resistors R/2 (collapsed when ``r_contact = 0``), node voltages
  referred to ground as in numpy and the B-source; gate charge ``C_g (Vg - (Vd+Vs)/2) + A Ps mean(s)``
  split equally between g-d and g-s (the subcircuit's Cgd/Cgs and switching-current sources).

Text is deterministic: numbers ``%.9e``, names validated, no timestamps, no ``$random``.
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import ParamError
from ..model.channel import K_B_OVER_Q
from ..model.ferro import EXP_CAP, V_EPS, _partner_order, _quantiles, activation_quantiles, imprint_quantiles
from ..params import _BOUNDS, FeFETParams, FerroParams
from .device import C_STATE, EPS0
from .fmt import name as check_name
from .fmt import num

P_CLAMP = 1e-9
"""Clamp of the switched fraction p inside ``L(p) = (-ln(1-p))^(1-1/beta)``: keeps L finite for beta < 1
and non-zero at a rail for beta > 1 (a bin leaves the rail after progress ~P_CLAMP^(1/beta))."""
G_PIN = 1.0
"""Conductance [S] holding a state node at its initial value during static analyses."""
DSMAX = 0.05
"""Default largest change of a bin state per time step ($bound_step)."""

_VA_WORDS = {"module", "endmodule", "begin", "end", "analog", "parameter", "real", "integer", "electrical",
             "input", "output", "inout", "if", "else", "for", "while", "case", "ground", "branch",
             "function", "from", "exclude", "inf", "string", "genvar", "initial", "always", "discipline"}

# name -> (FeFETParams attribute path, unit, description); ranges come from params._BOUNDS
_FERRO = [
    ("ps", "ferro.ps", "C/m^2", "saturation polarization Ps"),
    ("ea_up", "ferro.ea_up", "V", "median up-switching activation voltage"),
    ("ea_dn", "ferro.ea_dn", "V", "median down-switching activation voltage (magnitude)"),
    ("ea_sigma", "ferro.ea_sigma", "V or -", "spread of Ea: std [V] (gaussian) or std of ln Ea (lognormal)"),
    ("ea_corr", "ferro.ea_corr", "-", "correlation of up and down activation quantiles"),
    ("v_imp", "ferro.v_imp", "V", "imprint voltage"),
    ("alpha", "ferro.alpha", "-", "Merz-law exponent"),
    ("beta", "ferro.beta", "-", "KAI/NLS stretch exponent"),
    ("tau0", "ferro.tau0", "s", "attempt time"),
    ("eps_r", "ferro.eps_r", "-", "linear relative permittivity of the ferroelectric"),
    ("t_fe", "ferro.t_fe", "m", "ferroelectric thickness"),
    ("area", "ferro.area", "m^2", "ferroelectric capacitor area"),
]
_FERRO_EXTRA = [
    ("ea_sigma_dn", "ferro.ea_sigma_dn", "V or -", "spread of the down activation (0: ea_sigma)"),
    ("imp_sigma", "ferro.imp_sigma", "V", "spread of the imprint across the domain groups"),
    ("q_rev", "ferro.q_rev", "C/m^2", "saturating reversible polarization amplitude"),
    ("v_rev", "ferro.v_rev", "V", "voltage scale of the reversible polarization"),
]
"""Capacitor-module parameters emitted only for a ferroelectric that uses them (the bin grid ``ea_cond``
and the imprint groups ``imp_n`` are structural: they set the bins' fixed quantiles)."""
_FET = [
    ("vt_mid", "vt_mid", "V", "threshold voltage at zero net polarization"),
    ("mw", "mw", "V", "memory window: Vt = vt_mid + dvt - (mw/2) P/Ps"),
    ("n_ss", "channel.n_ss", "-", "subthreshold slope factor"),
    ("mu0", "channel.mu0", "m^2/(V s)", "low-field mobility"),
    ("cox", "channel.cox", "F/m^2", "gate-stack capacitance per area seen by the channel"),
    ("width", "channel.width", "m", "channel width"),
    ("length", "channel.length", "m", "channel length"),
    ("theta", "channel.theta", "1/V", "mobility degradation"),
    ("r_contact", "channel.r_contact", "Ohm", "total series contact resistance (half at each side)"),
    ("g_floor", "channel.g_floor", "S", "off-state conductance floor"),
    ("amb_ratio", "channel.amb_ratio", "-", "ambipolar branch strength relative to I_s"),
    ("vt_amb", "channel.vt_amb", "V", "threshold of the ambipolar branch"),
    ("tdev", "channel.temperature", "K", "device temperature of the channel (not the simulator's)"),
]


def _range(field: str, integer: bool = False) -> str:
    lo, lo_open, hi = _BOUNDS.get(field, (None, False, None))
    left = "(-inf" if lo is None else ("(" if lo_open else "[") + (str(int(lo)) if integer else num(lo))
    right = "inf)" if hi is None else (str(int(hi)) if integer else num(hi)) + "]"
    return f" from {left}:{right}"


def _get(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _param_lines(obj, table, root_is_ferro: bool) -> list[str]:
    lines = []
    for va, path, unit, desc in table:
        field = path.split(".")[-1]
        value = _get(obj, path.removeprefix("ferro.") if root_is_ferro else path)
        lines.append(f'  (* units="{unit}", desc="{desc}" *) parameter real {va} = {num(value)}{_range(field)};')
    return lines


def _common_params(fp: FerroParams, n_bins: int) -> list[str]:
    lines = _param_lines(fp, _FERRO, True)
    lines.append(f'  (* units="-", desc="Ea distribution: 0 gaussian, 1 lognormal" *) parameter real '
                 f'ea_lognormal = {num(float(fp.ea_dist == "lognormal"))} from [{num(0.0)}:{num(1.0)}];')
    lines.append(f'  (* units="-", desc="largest change of a bin state per time step" *) parameter real '
                 f'dsmax = {num(DSMAX)} from (0:2];')
    lines.append('  (* type="instance", units="-", desc="relative scale of all activation voltages (d2d)" *) '
                 f'parameter real kea = {num(1.0)} from (0:inf);')
    for k in range(n_bins):
        lines.append(f'  (* type="instance", units="-", desc="initial state of domain bin {k}" *) '
                     f'parameter real s0_{k} = {num(-1.0)} from [{num(-1.0)}:{num(1.0)}];')
    return lines


def uses_extras(fp: FerroParams) -> bool:
    """Whether ``fp`` sets any ferroelectric field added after the first module generator."""
    from ..params import FERRO_EXTRAS

    return any(getattr(fp, k) != default for k, default in FERRO_EXTRAS.items())


def _kinetics(n_bins: int, drive: str, extras: FerroParams | None = None) -> list[str]:
    """Statements computing ds_k/dt for every bin and contributing the state equations. ``extras``: the
    ferroelectric whose bin grid, imprint groups and down spread the bins carry (None: the first form)."""
    if extras is None:
        z = _quantiles(n_bins)
        z_other = z[_partner_order(n_bins)]
    else:
        z, z_other = activation_quantiles(replace(extras, n_domains=n_bins))
        zb = imprint_quantiles(replace(extras, n_domains=n_bins))
    vb, sd = ("vb", "sdn") if extras is not None else ("v_imp", "ea_sigma")
    lines = [f"    fe = {drive};",
             f"    eafloor = {num(1e-3)} * min(ea_up, ea_dn);",
             f"    rhoc = sqrt(max(0.0, 1.0 - ea_corr * ea_corr));"]
    if extras is None:
        lines += [f"    du = max(fe - v_imp, {num(V_EPS)});", f"    dd = max(v_imp - fe, {num(V_EPS)});"]
    else:
        lines += ["    if (ea_sigma_dn > 0.0) sdn = ea_sigma_dn; else sdn = ea_sigma;"]
    lines += ["    ratemax = 0.0;", "    ssum = 0.0;"]
    for k in range(n_bins):
        zu, zo = num(z[k]), num(z_other[k])
        lines += [f"    // bin {k}: quantile z = {zu}, partner {zo}"]
        if extras is not None:
            lines += [f"    vb = v_imp + imp_sigma * {num(zb[k])};", f"    du = max(fe - vb, {num(V_EPS)});",
                      f"    dd = max(vb - fe, {num(V_EPS)});"]
        lines += [
            f"    zdn = ea_corr * {zu} + rhoc * {zo};",
            "    if (ea_lognormal > 0.5) begin",
            f"      eu = ea_up * exp(ea_sigma * {zu});",
            f"      ed = ea_dn * exp({sd} * zdn);",
            "    end else begin",
            f"      eu = ea_up + ea_sigma * {zu};",
            f"      ed = ea_dn + {sd} * zdn;",
            "    end",
            "    eu = kea * max(eu, eafloor);",
            "    ed = kea * max(ed, eafloor);",
            f"    if (fe > {vb}) ru = exp(-min(pow(eu / du, alpha), {num(EXP_CAP)})) / tau0; else ru = 0.0;",
            f"    if (fe < {vb}) rd = exp(-min(pow(ed / dd, alpha), {num(EXP_CAP)})) / tau0; else rd = 0.0;",
            f"    sk = V(x{k});",
            f"    lu = pow(-ln(min(max(0.5 * (1.0 - sk), {num(P_CLAMP)}), {num(1.0 - P_CLAMP)})), 1.0 - 1.0 / beta);",
            f"    ld = pow(-ln(min(max(0.5 * (1.0 + sk), {num(P_CLAMP)}), {num(1.0 - P_CLAMP)})), 1.0 - 1.0 / beta);",
            "    dsdt = beta * (ru * (1.0 - sk) * lu - rd * (1.0 + sk) * ld);",
            "    ratemax = max(ratemax, abs(dsdt));",
            "    ssum = ssum + sk;",
            f"    ds_{k} = dsdt;",
            f"    I(x{k}) <+ ddt({num(C_STATE)} * sk);",
            f"    if (analysis(\"static\")) I(x{k}) <+ {num(G_PIN)} * (sk - s0_{k});",
            f"    else I(x{k}) <+ -{num(C_STATE)} * dsdt;",
        ]
    lines += [f"    pm = ssum / {n_bins}.0;",
              "    $bound_step(dsmax / (ratemax + 1e-30));"]
    return lines


_KIN_VARS = "fe, eafloor, rhoc, du, dd, ratemax, ssum, zdn, eu, ed, ru, rd, sk, lu, ld, dsdt, pm, cg"


def _retrieve(n_bins: int, names: str) -> str:
    """Variables a tool may read out (VerilogAE's ``retrieve``; other compilers ignore the attribute)."""
    ds = ", ".join(f"ds_{k}" for k in range(n_bins))
    return f"  (* retrieve *) real {ds}, {names};"


def _check_module_name(value: str) -> str:
    check_name("name", value)
    if value.lower() in _VA_WORDS:
        raise ParamError(f"name: {value!r} is a Verilog-A keyword; choose another name")
    return value


def _header(title: str, n_bins: int) -> list[str]:
    return [f"// {title}",
            "// Generated by fefet_spice (fefet-spice netlist --verilog-a); do not edit by hand.",
            f"// {n_bins} equal-weight domain bins; see docs/verilog_a.md.",
            '`include "disciplines.vams"', ""]


def _bins(n_bins: int) -> int:
    n = int(n_bins)
    if n < 1:
        raise ParamError(f"n_bins must be >= 1, got {n_bins!r}")
    return n


def _check_extras(fp: FerroParams, what: str) -> None:
    """Refuse a ferroelectric the Verilog-A modules do not carry yet (one sentence)."""
    from ..params import FERRO_EXTRAS

    used = [k for k, default in FERRO_EXTRAS.items() if getattr(fp, k) != default]
    if used:
        raise ParamError(f"{what}: the FeFET Verilog-A module carries one imprint, paired up/down quantiles and a "
                         f"linear dielectric; this ferroelectric sets {', '.join(used)} (the capacitor module "
                         "fecap_module and the ngspice MFM subcircuit carry them)")


def _module_head(title: str, mod: str, ports: str, nodes: str, fp: FerroParams, n: int) -> list[str]:
    """Header comment, module line, port and node declarations (``n`` bin state nodes) and the
    ferroelectric parameters shared by every module."""
    xs = ", ".join(f"x{k}" for k in range(n))
    return _header(title, n) + [f"module {mod}({ports});", f"  inout {ports};", f"  electrical {nodes};",
                                f"  electrical {xs};"] + _common_params(fp, n)


def fefet_module(params: FeFETParams, n_bins: int) -> str:
    """Verilog-A text of one FeFET (module named ``params.name``, ports ``d g s``)."""
    mod = _check_module_name(params.name)
    _check_extras(params.ferro, mod)
    n = _bins(n_bins)
    lines = _module_head(f"FeFET {mod}: multi-domain Preisach/NLS ferroelectric + EKV MoS2 channel", mod,
                         "d, g, s", "d, g, s, di, si", params.ferro, n)
    lines += _param_lines(params, _FET, False)
    lines.append('  (* type="instance", units="V", desc="threshold shift (d2d)" *) '
                 f'parameter real dvt = {num(0.0)} from (-inf:inf);')
    lines += [f"  real {_KIN_VARS};",
              "  real phi, sc, vt, vdi, vsi, vgt, sm, ss, sd, am, ad, as_;",
              _retrieve(n, "qgd, qgs, ich"),
              "  analog begin"]
    lines += _kinetics(n, "V(g) - 0.5 * (V(d) + V(s))")
    lines += [
        f"    cg = {num(EPS0)} * eps_r * area / t_fe;",
        "    qgd = 0.5 * (cg * V(g, d) + area * ps * pm);",
        "    qgs = 0.5 * (cg * V(g, s) + area * ps * pm);",
        "    I(g, d) <+ ddt(qgd);",
        "    I(g, s) <+ ddt(qgs);",
        "    vt = vt_mid + dvt - 0.5 * mw * pm;",
        f"    phi = {num(K_B_OVER_Q)} * tdev;",
        "    sc = 2.0 * n_ss * phi;",
        "    vdi = V(di);",
        "    vsi = V(si);",
        "    vgt = V(g) - vt;",
        f"    sm = `SP(vgt / sc);",
        f"    ss = `SP((vgt - n_ss * vsi) / sc);",
        f"    sd = `SP((vgt - n_ss * vdi) / sc);",
        f"    am = `SP((vt_amb - V(g)) / sc);",
        f"    ad = `SP((vt_amb - V(g) + n_ss * vdi) / sc);",
        f"    as_ = `SP((vt_amb - V(g) + n_ss * vsi) / sc);",
        "    ich = 2.0 * n_ss * cox * (width / length) * phi * phi * mu0",
        "          * ((ss * ss - sd * sd) / (1.0 + theta * sc * sm)",
        "             + amb_ratio * (ad * ad - as_ * as_) / (1.0 + theta * sc * am))",
        "          + g_floor * (vdi - vsi);",
        "    I(di, si) <+ ich;",
        "    if (r_contact > 0.0) begin",
        "      I(d, di) <+ V(d, di) / (0.5 * r_contact);",
        "      I(si, s) <+ V(si, s) / (0.5 * r_contact);",
        "    end else begin",
        "      V(d, di) <+ 0.0;",
        "      V(si, s) <+ 0.0;",
        "    end",
        "  end",
        "endmodule",
    ]
    return _finish(lines)


def fecap_module(fp: FerroParams, n_bins: int, module: str = "fecap") -> str:
    """Verilog-A text of a two-terminal ferroelectric (MFM) capacitor, ports ``p n``.

    Drive ``V(p, n)``; charge ``eps0 eps_r A / t_fe V(p, n) + A Ps mean(s)`` on ``p``; the same bins and
    rate law as the FeFET's ferroelectric."""
    mod = _check_module_name(module)
    n = _bins(n_bins)
    extras = fp if uses_extras(fp) else None
    if extras is not None and n % (fp.ea_cond * fp.imp_n):
        raise ParamError(f"{mod}: n_bins must be a multiple of ea_cond * imp_n = {fp.ea_cond * fp.imp_n}, got {n}")
    title = "multi-domain Preisach/NLS, linear background" if extras is None else (
        f"Preisach grid of {n} bins (ea_cond {fp.ea_cond}, {fp.imp_n} imprint groups), NLS, reversible term")
    lines = _module_head(f"Ferroelectric capacitor {mod}: {title}", mod, "p, n", "p, n", fp, n)
    if extras is not None:
        lines += _param_lines(fp, _FERRO_EXTRA, True)
    lines += [f"  real {_KIN_VARS}" + (", sdn, vb;" if extras is not None else ";"), _retrieve(n, "qp"),
              "  analog begin"]
    lines += _kinetics(n, "V(p, n)", extras)
    qrev = " + area * q_rev * tanh(V(p, n) / v_rev)" if extras is not None else ""
    lines += [f"    cg = {num(EPS0)} * eps_r * area / t_fe;",
              f"    qp = cg * V(p, n) + area * ps * pm{qrev};",
              "    I(p, n) <+ ddt(qp);",
              "  end",
              "endmodule"]
    return _finish(lines)


_SOFTPLUS = (f"`define SP(x) (max(min(max((x), {num(-1e4)}), {num(1e4)}), 0.0) + "
             f"ln(1.0 + exp(-abs(min(max((x), {num(-1e4)}), {num(1e4)})))))")


def _finish(lines: list[str]) -> str:
    text = "\n".join(lines) + "\n"
    if "`SP(" in text:
        i = lines.index("") + 1
        text = "\n".join(lines[:i] + ["// softplus ln(1 + e^x), argument clamped to +/-1e4 as in the ngspice B-source",
                                      _SOFTPLUS, ""] + lines[i:]) + "\n"
    if any(ord(c) > 126 or (ord(c) < 32 and c != "\n") for c in text) or "$random" in text:
        raise ParamError("Verilog-A text: unexpected character or $random")
    return text


def verilog_a_files(weight: FeFETParams, sparsity: FeFETParams, fecap: FerroParams | None = None,
                    bins_weight: int | None = None, bins_sparsity: int | None = None) -> dict[str, str]:
    """File name -> text: ``<weight.name>.va``, ``<sparsity.name>.va`` and ``fecap.va``.

    Bin counts default to those of the ngspice decks (``ArrayConfig``); the capacitor defaults to the
    weight FeFET's ferroelectric with its bin count."""
    from .array import ArrayConfig

    cfg = ArrayConfig()
    bw = cfg.bins_weight if bins_weight is None else bins_weight
    bs = cfg.bins_sparsity if bins_sparsity is None else bins_sparsity
    fp = weight.ferro if fecap is None else fecap
    if len({weight.name, sparsity.name, "fecap"}) < 3:
        raise ParamError(f"device names {weight.name!r} and {sparsity.name!r} must differ from each other "
                         "and from 'fecap' (one Verilog-A module and file per name)")
    return {f"{weight.name}.va": fefet_module(weight, bw),
            f"{sparsity.name}.va": fefet_module(sparsity, bs),
            "fecap.va": fecap_module(fp, bw)}


def ferro_param_values(fp: FerroParams) -> dict[str, float]:
    """Verilog-A parameter name -> value (full precision) of the ferroelectric part, from ``fp``."""
    values = {va: float(_get(fp, path.removeprefix("ferro."))) for va, path, _, _ in _FERRO + _FERRO_EXTRA}
    values["ea_lognormal"] = float(fp.ea_dist == "lognormal")
    return values


def fefet_param_values(params: FeFETParams) -> dict[str, float]:
    """Verilog-A parameter name -> value (full precision) of a FeFET module, from ``params``."""
    values = ferro_param_values(params.ferro)
    values.update({va: float(_get(params, path)) for va, path, _, _ in _FET})
    return values
