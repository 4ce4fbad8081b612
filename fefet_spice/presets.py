"""Device presets: only defaults change, never equations (aihwkit style).

* ``weight`` — analog HZO/MoS2 weight FeFET: one-pulse half-switching (V50) near +/-4.3 V at 1 us,
  gradual accumulation under identical sub-coercive pulses (+/-3.9 V, 1 us), about 6 uS read range at
  V_D = 0.1 V, write noise about 10 % of a step, read noise 0.017 uS (Ning et al. 2025,
  DOI 10.1038/s41928-024-01328-4).
* ``sparsity`` — binary sparsity FeFET: head-to-head double HZO capacitor, about twice the memory
  window and switching voltage (V50 near +/-8.5 V), on/off far above 1e6, written with +/-10 V pulses.
"""
from __future__ import annotations

from dataclasses import replace

from .params import ChannelParams, FeFETParams, FerroParams, OperatingPoint, ParamError

_WEIGHT = FeFETParams(
    name="fefet_weight",
    ferro=FerroParams(n_domains=64, ps=0.20, ea_up=16.0, ea_dn=16.0, ea_sigma=0.5, alpha=2.0,
                      beta=1.0, tau0=1e-12, eps_r=35.0, t_fe=10e-9, area=1e-12),
    channel=ChannelParams(n_ss=1.5, mu0=5e-4, cox=1.47e-2, width=1.4e-6, length=2e-6, theta=0.1,
                          r_contact=2e3, g_floor=1e-13),
    vt_mid=0.3, mw=2.0,
    sigma_ea_d2d=0.005, sigma_vt_d2d=0.02, sigma_c2c=0.1, read_noise=0.017e-6,
    op=OperatingPoint(v_read_g=1.0, v_read_d=0.1, t_read=1e-6, v_pulse_up=3.9, v_pulse_dn=-3.9,
                      t_pulse=1e-6, t_gap=1e-6),
)

_SPARSITY = FeFETParams(
    name="fefet_sparsity",
    ferro=FerroParams(n_domains=32, ps=0.20, ea_up=32.0, ea_dn=32.0, ea_sigma=0.8, alpha=2.0,
                      beta=1.0, tau0=1e-12, eps_r=35.0, t_fe=20e-9, area=1e-12),
    channel=ChannelParams(n_ss=1.5, mu0=5e-4, cox=1.47e-2, width=2e-6, length=2e-6, theta=0.1,
                          r_contact=2e3, g_floor=1e-13),
    vt_mid=0.0, mw=4.0,
    sigma_ea_d2d=0.005, sigma_vt_d2d=0.02, sigma_c2c=0.0, read_noise=0.0,
    op=OperatingPoint(v_read_g=1.0, v_read_d=0.1, t_read=1e-6, v_pulse_up=10.0, v_pulse_dn=-10.0,
                      t_pulse=10e-6, t_gap=1e-6),
)

PRESETS = {"weight": _WEIGHT, "sparsity": _SPARSITY}


def names() -> list[str]:
    """Names of the available presets."""
    return sorted(PRESETS)


def get(name: str, **overrides) -> FeFETParams:
    """A preset by name, with optional top-level field overrides."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ParamError(f"unknown preset {name!r}; choose one of {', '.join(names())}") from None
    return replace(base, **overrides) if overrides else base


def nominal(params: FeFETParams) -> FeFETParams:
    """The same device without any variation or noise (the deterministic reference device)."""
    return replace(params, sigma_ea_d2d=0.0, sigma_vt_d2d=0.0, sigma_c2c=0.0, read_noise=0.0)
