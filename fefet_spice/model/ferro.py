"""Multi-domain Preisach ferroelectric with nucleation-limited (Merz-law) switching kinetics.

Pure numpy. Equations: ``../shared/SPEC.md`` section 1.1.

References
----------
.. [1] W. J. Merz, "Domain formation and domain wall motions in ferroelectric BaTiO3 single crystals",
   Phys. Rev. 95, 690 (1954). DOI 10.1103/PhysRev.95.690
.. [2] A. K. Tagantsev et al., "Non-Kolmogorov-Avrami switching kinetics in ferroelectric thin films",
   Phys. Rev. B 66, 214109 (2002). DOI 10.1103/PhysRevB.66.214109
.. [3] S. Deng et al., "A comprehensive model for ferroelectric FET capturing the key behaviors:
   scalability, variation, stochasticity, and accumulation", VLSI 2020. DOI 10.1109/VLSITechnology18217.2020.9265014
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from ..params import FerroParams

EXP_CAP = 80.0
"""Cap on |exponent| in every exp() of the rate law, shared with the SPICE netlists."""
V_EPS = 1e-6
"""Smallest drive [V] used in Ea / V (avoids division by zero; the rate there is ~0)."""


def _quantiles(n: int) -> np.ndarray:
    return ndtri((np.arange(n) + 0.5) / n)


def _partner_order(n: int) -> np.ndarray:
    """A fixed, deterministic permutation used to decorrelate up and down quantiles."""
    step = max(1, int(round(n * 0.6180339887))) | 1
    while np.gcd(step, n) != 1:
        step += 2
    return (np.arange(n) * step) % n


def domain_activation(fp: FerroParams) -> tuple[np.ndarray, np.ndarray]:
    """Activation voltages of every domain, deterministic quantiles of the chosen distribution.

    With ``fp.ea_cond == 1`` each up quantile is paired with one down quantile (``ea_corr`` mixes it with
    a fixed permutation of the others). With ``ea_cond = m > 1`` the domains sample the bivariate
    (up, down) distribution on a grid: ``n_domains / m`` up quantiles, each with the ``m`` quantiles of
    the down activation conditional on it (correlation ``ea_corr``) — a Preisach density of equal-weight
    hysterons whose minor loops follow from which (up, down) pairs a history has switched.

    Parameters
    ----------
    fp : FerroParams

    Returns
    -------
    ea_up, ea_dn : ndarray, shape (n_domains,)
        Up- and down-switching activation voltages [V] (positive magnitudes).
    """
    rho = fp.ea_corr
    z, z_other = activation_quantiles(fp)
    z_dn = rho * z + np.sqrt(max(0.0, 1.0 - rho * rho)) * z_other
    sig_dn = fp.ea_sigma_dn if fp.ea_sigma_dn > 0 else fp.ea_sigma
    if fp.ea_dist == "gaussian":
        ea_up = fp.ea_up + fp.ea_sigma * z
        ea_dn = fp.ea_dn + sig_dn * z_dn
    else:
        ea_up = fp.ea_up * np.exp(fp.ea_sigma * z)
        ea_dn = fp.ea_dn * np.exp(sig_dn * z_dn)
    floor = 1e-3 * min(fp.ea_up, fp.ea_dn)
    return np.maximum(ea_up, floor), np.maximum(ea_dn, floor)


def activation_quantiles(fp: FerroParams) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal quantiles ``(z, z_other)`` of every domain: ``z`` sets the up activation, the down
    one is ``ea_corr z + sqrt(1 - ea_corr^2) z_other`` (see :func:`domain_activation`)."""
    n = fp.n_domains // fp.imp_n  # domains per imprint group: every group has the same activations
    if fp.ea_cond > 1:
        m = fp.ea_cond
        z = np.repeat(_quantiles(n // m), m)
        z_other = np.tile(_quantiles(m), n // m)
    else:
        z = _quantiles(n)
        z_other = z[_partner_order(n)]
    if fp.imp_n > 1:
        z, z_other = np.tile(z, fp.imp_n), np.tile(z_other, fp.imp_n)
    return z, z_other


def imprint_quantiles(fp: FerroParams) -> np.ndarray:
    """Standard-normal imprint quantile of every domain (0 with one imprint group)."""
    if fp.imp_n == 1:
        return np.zeros(fp.n_domains)
    return np.repeat(_quantiles(fp.imp_n), fp.n_domains // fp.imp_n)


def imprint_levels(fp: FerroParams) -> np.ndarray:
    """Imprint [V] of each of the ``imp_n`` domain groups (group g holds domains
    ``g * n_domains / imp_n`` up to the next group): Gaussian quantiles around ``v_imp``."""
    if fp.imp_n == 1:
        return np.array([fp.v_imp])
    return fp.v_imp + fp.imp_sigma * _quantiles(fp.imp_n)


def domain_imprint(fp: FerroParams) -> np.ndarray:
    """Imprint [V] of every domain, shape (n_domains,)."""
    return np.repeat(imprint_levels(fp), fp.n_domains // fp.imp_n)


def log_rate(v_drive, ea, alpha: float, tau0: float):
    """Natural log of the Merz switching rate for a drive of the matching sign.

    Parameters
    ----------
    v_drive : array_like
        Drive magnitude beyond the imprint, ``|V - V_imp|`` [V].
    ea : array_like
        Activation voltage [V].
    alpha : float
        Merz exponent [-].
    tau0 : float
        Attempt time [s].

    Returns
    -------
    ndarray
        ``ln r`` [ln(1/s)], with the exponent capped at ``EXP_CAP``.
    """
    x = np.maximum(np.asarray(v_drive, dtype=float), V_EPS)
    with np.errstate(over="ignore"):
        expo = np.minimum((np.asarray(ea, dtype=float) / x) ** alpha, EXP_CAP)
    return -expo - np.log(tau0)


def switching_rates(v, ea_up, ea_dn, alpha: float, tau0: float, v_imp: float = 0.0):
    """Up and down switching rates r_up, r_dn [1/s] at drive ``v`` [V] (SPEC 1.1)."""
    v = np.asarray(v, dtype=float)
    up = np.where(v > v_imp, np.exp(log_rate(v - v_imp, ea_up, alpha, tau0)), 0.0)
    dn = np.where(v < v_imp, np.exp(log_rate(v_imp - v, ea_dn, alpha, tau0)), 0.0)
    return up, dn


def merz_switching_voltage(ea, t_pulse, alpha: float, tau0: float):
    """Drive [V] at which a domain of activation ``ea`` [V] flips within ``t_pulse`` [s].

    ``V = Ea / ln(t_pulse / tau0)^(1/alpha)``: where one pulse integrates a rate of 1/t_pulse.
    """
    return np.asarray(ea, dtype=float) / np.log(np.asarray(t_pulse) / tau0) ** (1.0 / alpha)


def switched_fraction(h, beta: float):
    """Fraction switched after switching progress ``h`` [-] (KAI/NLS stretch, 1 - exp(-h^beta))."""
    h = np.maximum(np.asarray(h, dtype=float), 0.0)
    return -np.expm1(-np.minimum(h ** beta, EXP_CAP))


def one_pulse_polarization(fp: FerroParams, amp, width):
    """Polarization [C/m^2] after one pulse of ``amp`` [V] and ``width`` [s] from the fully down state.

    Vectorized over ``amp`` and ``width`` (broadcast). Useful for kinetics fits (P vs pulse width).
    """
    ea_up, _ = domain_activation(fp)
    amp = np.asarray(amp, dtype=float)[..., None]
    width = np.asarray(width, dtype=float)[..., None]
    drive = amp - domain_imprint(fp)
    lr = log_rate(drive, ea_up, fp.alpha, fp.tau0)
    h = np.where(drive > 0, np.exp(np.minimum(lr + np.log(width), EXP_CAP)), 0.0)
    frac = switched_fraction(h, fp.beta)
    return fp.ps * (-1.0 + 2.0 * frac.mean(axis=-1))
