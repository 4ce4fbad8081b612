"""Fit settings kept apart from parameter values (lmfit style): bounds, vary flags and expressions.

Fit parameters are named in a fit-friendly parametrization (logarithms of scale parameters, DC
switching voltages instead of activation voltages). :func:`assemble` maps fit values onto a base
:class:`~fefet_spice.params.FeFETParams`; the activation voltages follow from the Merz law,
``Ea = Vc ln(t_dc / tau0)^(1/alpha)``, so the DC loops fix ``Vc`` and the pulse kinetics ``tau0``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping

from ..params import FeFETParams


@dataclass(frozen=True)
class ParamSpec:
    """Settings of one fit parameter in one stage."""

    min: float = -math.inf
    """Lower bound (in the parameter's own unit)."""
    max: float = math.inf
    """Upper bound."""
    vary: bool = True
    """Whether the stage varies it (False: held at its current value)."""
    expr: str | None = None
    """lmfit constraint expression (then it is not varied)."""


UNITS = {"vt_hi": "V", "vt_lo": "V", "vt_mid": "V", "mw": "V", "n_ss": "-", "log10_mu0": "log10(m^2/Vs)",
         "theta": "1/V", "r_contact": "ohm", "log10_g_floor": "log10(S)", "vc_up": "V", "vc_dn": "V",
         "vc_sigma": "V", "log10_tau0": "log10(s)", "alpha": "-", "beta": "-", "dc_dwell": "s"}

_CH = {"n_ss": ParamSpec(1.0, 5.0), "vt_hi": ParamSpec(-20, 20), "vt_lo": ParamSpec(-20, 20),
       "log10_g_floor": ParamSpec(-17, -8)}
_LOOP_FE = {"vc_up": ParamSpec(0.05, 40), "vc_dn": ParamSpec(0.05, 40), "vc_sigma": ParamSpec(1e-3, 10),
            "mw": ParamSpec(0.0, 20), "vt_mid": ParamSpec(-10, 10)}
_FIXED_KIN = {"log10_tau0": ParamSpec(-16, -6, vary=False), "alpha": ParamSpec(0.5, 6, vary=False),
              "beta": ParamSpec(0.2, 5, vary=False), "dc_dwell": ParamSpec(vary=False)}

DEFAULT_SPEC: dict[str, dict[str, ParamSpec]] = {
    "channel_sub": {**_CH, "vt_mid": ParamSpec(expr="(vt_hi + vt_lo) / 2"), "mw": ParamSpec(expr="vt_hi - vt_lo")},
    "channel_above": {"log10_mu0": ParamSpec(-7, -1), "theta": ParamSpec(0, 5), "r_contact": ParamSpec(0, 1e6),
                      "vt_hi": ParamSpec(-20, 20), "vt_lo": ParamSpec(-20, 20)},
    "channel": {**_CH, "log10_mu0": ParamSpec(-7, -1), "theta": ParamSpec(0, 5), "r_contact": ParamSpec(0, 1e6)},
    "loops": {**_LOOP_FE, **_FIXED_KIN},
    "kinetics": {"log10_tau0": ParamSpec(-16, -6), "alpha": ParamSpec(0.5, 6, vary=False),
                 "beta": ParamSpec(0.2, 5, vary=False), "dc_dwell": ParamSpec(vary=False),
                 "vc_up": ParamSpec(0.05, 40, vary=False), "vc_dn": ParamSpec(0.05, 40, vary=False),
                 "vc_sigma": ParamSpec(1e-3, 10, vary=False)},
    "polish": {**_LOOP_FE, "log10_tau0": ParamSpec(-16, -6), "alpha": ParamSpec(0.5, 6, vary=False),
               "beta": ParamSpec(0.2, 5, vary=False), "dc_dwell": ParamSpec(vary=False)},
}
"""Stage -> parameter -> settings. Stages run in this order."""


def merz_factor(values: Mapping[str, float]) -> float:
    """``ln(t_dc / tau0)^(1/alpha)`` [-]: converts DC switching voltages to activation voltages."""
    return math.log(values["dc_dwell"] / 10.0 ** values["log10_tau0"]) ** (1.0 / values["alpha"])


def assemble(base: FeFETParams, values: Mapping[str, float]) -> FeFETParams:
    """A parameter set: ``base`` with every fit value in ``values`` applied (others kept)."""
    v = dict(values)
    ch, fe, top = base.channel, base.ferro, {}
    chk = {}
    if "n_ss" in v:
        chk["n_ss"] = v["n_ss"]
    if "log10_mu0" in v:
        chk["mu0"] = 10.0 ** v["log10_mu0"]
    if "theta" in v:
        chk["theta"] = max(v["theta"], 0.0)
    if "r_contact" in v:
        chk["r_contact"] = max(v["r_contact"], 0.0)
    if "log10_g_floor" in v:
        chk["g_floor"] = 10.0 ** v["log10_g_floor"]
    if chk:
        ch = replace(ch, **chk)
    if "vt_hi" in v and "vt_lo" in v and "vt_mid" not in v:
        v["vt_mid"], v["mw"] = 0.5 * (v["vt_hi"] + v["vt_lo"]), v["vt_hi"] - v["vt_lo"]
    for k in ("vt_mid", "mw"):
        if k in v:
            top[k] = max(v[k], 0.0) if k == "mw" else v[k]
    if "vc_up" in v:
        kin = {"dc_dwell": v.get("dc_dwell", 0.05), "log10_tau0": v.get("log10_tau0", math.log10(fe.tau0)),
               "alpha": v.get("alpha", fe.alpha)}
        f = merz_factor(kin)
        fe = replace(fe, ea_up=v["vc_up"] * f, ea_dn=v.get("vc_dn", v["vc_up"]) * f,
                     ea_sigma=max(v.get("vc_sigma", 0.0), 0.0) * f, tau0=10.0 ** kin["log10_tau0"],
                     alpha=kin["alpha"], beta=v.get("beta", fe.beta))
    return replace(base, channel=ch, ferro=fe, sigma_ea_d2d=0.0, sigma_vt_d2d=0.0, sigma_c2c=0.0,
                   read_noise=0.0, **top)


def lmfit_parameters(stage: Mapping[str, ParamSpec], values: Mapping[str, float]):
    """lmfit ``Parameters`` of one stage from its settings and the current values."""
    import lmfit

    params = lmfit.Parameters()
    plain = [(k, s) for k, s in stage.items() if not s.expr]
    for name, s in plain:
        val = float(values[name])
        val = min(max(val, s.min), s.max)
        params.add(name, value=val, min=s.min, max=s.max, vary=s.vary)
    for name, s in stage.items():
        if s.expr:
            params.add(name, expr=s.expr)
    return params
