"""The generator's true parameters of one drawn device, in a JSON-ready form."""
from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np

from ..model.channel import subthreshold_swing
from ..model.ferro import merz_switching_voltage
from ..params import FeFETParams, FerroParams, to_dict
from .device import DiscreteDevice, GeneratorConfig

SCHEMA = "fefet-generator-truth/1"


def _wstats(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    mean = float(w @ x)
    return mean, float(np.sqrt(w @ (x - mean) ** 2))


def truth_dict(dev: DiscreteDevice, cfg: GeneratorConfig, population: FeFETParams, seed: int,
               dwell: float) -> dict:
    """Population parameters, generator settings, the drawn device and its key quantities.

    ``effective`` is the nominal compact-model parameter set closest to the drawn device: realized
    (size-weighted) activation mean and spread, threshold including the device's shift.
    """
    fp = population.ferro
    up_mean, up_std = _wstats(dev.ea_up, dev.weight)
    dn_mean, dn_std = _wstats(dev.ea_dn, dev.weight)
    effective = replace(population, vt_mid=population.vt_mid + dev.vt_shift,
                        ferro=replace(fp, ea_up=up_mean, ea_dn=dn_mean, ea_sigma=0.5 * (up_std + dn_std)),
                        sigma_ea_d2d=0.0, sigma_vt_d2d=0.0, sigma_c2c=0.0)
    key = {
        "mw": population.mw,
        "vt_mid": effective.vt_mid,
        "ss": float(subthreshold_swing(population.channel)),
        "n_ss": population.channel.n_ss,
        "ea_up": up_mean, "ea_dn": dn_mean, "ea_sigma": effective.ferro.ea_sigma,
        "vc_up_dc": float(merz_switching_voltage(up_mean, dwell, fp.alpha, fp.tau0)),
        "vc_dn_dc": float(merz_switching_voltage(dn_mean, dwell, fp.alpha, fp.tau0)),
        "vc_sigma_dc": float(merz_switching_voltage(effective.ferro.ea_sigma, dwell, fp.alpha, fp.tau0)),
        "v50_1us": float(merz_switching_voltage(up_mean, 1e-6, fp.alpha, fp.tau0)),
        "tau0": fp.tau0, "alpha": fp.alpha, "beta": fp.beta,
        "dc_dwell": dwell,
    }
    return {"schema": SCHEMA, "seed": seed, "population": to_dict(population),
            "generator": asdict(cfg), "drawn": {"vt_shift": dev.vt_shift, "ea_scale": dev.ea_scale},
            "key": key, "effective": to_dict(effective)}


def effective_ferro(d: dict) -> FerroParams:
    """The effective :class:`FerroParams` stored in a truth dict."""
    from ..params import from_dict

    return from_dict(d["effective"]).ferro
