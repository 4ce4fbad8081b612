"""Programming schemes measured in ngspice on the cell (SPEC 2): energy, drive, update per pulse.

A cell's *role* in a step (:data:`fefet_spice.array.schemes.ROLES`) fixes its three line voltages, so
with ideal lines every cell of an array sees exactly its role's voltages and a 1 x 1 deck is the cell in
the array. A floating DIL couples the cells of a row: such schemes run on a 1 x N row instead (column
0 selected, the others unselected).

Per pulse the deck gives the energy drawn from every line source (pulse + gap), the weight channel's
conduction energy ``integral (V_d - V_s) I_ch`` (I_ch from the current through the drain contact
resistor, so gate displacement currents are excluded; topology A adds the series sparsity channel),
the weight FeFET's ferroelectric drive in the middle of the pulse (``v(fe)`` inside the subcircuit,
so a floating gate, the sparsity FeFET's pass drop and a floating DIL are all in it) and the domain
states at the end of the gap.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..array.schedule import Schedule
from ..array.schemes import Scheme
from ..errors import ParamError
from ..params import FeFETParams
from .array import ArrayConfig, array_deck, initial_state
from . import runner
from ..errors import SimulatorError
from .deck import SolverOptions, energy, sample
from .device import binned_device

OPTIONS = SolverOptions(reltol=1e-4, max_steps_per_segment=4.0)
"""As :data:`fefet_spice.spice.energy.ENERGY_OPTIONS` (energies converged to < 0.5 %)."""


@dataclass(frozen=True)
class RowPulses:
    """ngspice result of a pulse train on a 1 x N row (index j = column)."""

    p_norm: np.ndarray
    """Mean weight domain state after each pulse's gap, shape (N, P) [-]."""
    bins: np.ndarray
    """Final weight bin states, shape (N, K) [-]."""
    drive: np.ndarray
    """Weight ferroelectric drive in the middle of each pulse, shape (N, P) [V]."""
    energy_total: np.ndarray
    """Energy from every line source over each pulse and its gap, shape (P,) [J]."""
    energy_channel: np.ndarray
    """Channel conduction energy of each cell over each pulse and its gap, shape (N, P) [J]."""
    sparsity_p: np.ndarray
    """Final mean state of each cell's sparsity FeFET, shape (N,) [-] (+1 on, -1 off)."""
    dil: np.ndarray
    """DIL potential in the middle of each pulse, shape (P,) [V] (floats in some schemes)."""


def _run_with_retry(make_deck, options: SolverOptions, backend: str) -> dict:
    """Run; on any ngspice failure retry with a tighter reltol, then with trap (isolated edge events,
    as in :func:`fefet_spice.spice.array.run_array`; the shared library does not always say why)."""
    ladder = [options, replace(options, reltol=options.reltol / 3), replace(options, method="trap"),
              replace(options, t_edge=3 * options.t_edge)]
    for k, opts in enumerate(ladder):
        try:
            return runner.run(make_deck(opts), backend=backend)
        except SimulatorError:
            if k == len(ladder) - 1:
                raise


def _conduction(vec, time, ref: str, d: str, s: str, rc: float) -> np.ndarray:
    """Conduction power of a FeFET instance: (V_d - V_s) x current through its drain contact."""
    vd = vec[f"v({d})"] if d != "0" else 0.0
    vs = vec[f"v({s})"] if s != "0" else 0.0
    return (vd - vs) * (vd - vec[f"v({ref}.di)"]) / (0.5 * rc)


def row_pulses(weight: FeFETParams, sparsity: FeFETParams, scheme: Scheme, bl, dil, dol, width: float,
               gap: float, mask=None, s_init=-1.0, t_pre: float = 100e-9, backend: str = "auto") -> RowPulses:
    """Pulse a 1 x N row in ngspice: pulse k puts ``bl[k]``, ``dil[k]`` on the row and ``dol[:, k]`` on the
    DOLs for ``width`` [s], then every line is at 0 V for ``gap`` [s]. ``dil`` is ignored when the
    scheme's DIL floats. ``mask`` (N,) marks kept cells (default all), ``s_init`` the initial weight
    state (scalar or (N,)) [-]."""
    bl = np.asarray(bl, dtype=float)
    dol = np.atleast_2d(np.asarray(dol, dtype=float))
    n, n_p = dol.shape
    if weight.channel.r_contact <= 0 or (scheme.topology == "A" and sparsity.channel.r_contact <= 0):
        raise ParamError(f"{weight.name}: channel.r_contact must be > 0 to separate the conduction energy")
    k = 1 + 2 * n_p
    dt = np.zeros(k)
    dt[0] = t_pre
    dt[1::2], dt[2::2] = width, gap
    sb, sd, so = np.zeros((1, k)), np.zeros((1, k)), np.zeros((n, k))
    sb[0, 1::2] = bl
    if not scheme.dil_floats:
        sd[0, 1::2] = np.asarray(dil, dtype=float)
    so[:, 1::2] = dol
    sched = Schedule(dt=dt, bl=sb, dil=sd, dol=so, spl=None, v_spl_pre=scheme.spl_pre_v, t_pre=t_pre,
                     dil_float=scheme.dil_floats)
    cfg = ArrayConfig(topology=scheme.topology)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask, bool)
    state = initial_state(1, n, mask[None, :], cfg)
    state.weight[:] = np.broadcast_to(np.asarray(s_init, dtype=float), (n,))[None, :, None]
    wdev, sdev = binned_device(weight, cfg.bins_weight), binned_device(sparsity, cfg.bins_sparsity)
    extra = [f"v(xw0_{j}.di) v(xw0_{j}.fe)" + (f" v(xs0_{j}.di) v(m0_{j})" if scheme.topology == "A" else "")
             for j in range(n)]
    vec = _run_with_retry(lambda o: array_deck(wdev, sdev, state, sched, cfg, o, save_currents=True,
                                               title=f"scheme {scheme.name}", extra=tuple(".save " + e for e in extra)),
                          OPTIONS, backend)
    time = vec["time"]
    t_end = np.cumsum(dt)
    t_start = t_end - dt
    pulses = 1 + 2 * np.arange(n_p)
    srcs = {"bl0": ("bl0", "0"), **{f"dol{j}": (f"dol{j}", "0") for j in range(n)}}
    if not scheme.dil_floats:
        srcs["dil0"] = ("dil0", "0")
    e_tot = np.array([energy(time, vec, srcs, float(t_start[p]), float(t_end[p + 1])) for p in pulses])
    e_ch = np.zeros((n, n_p))
    for j in range(n):
        if scheme.topology == "B":
            pw = _conduction(vec, time, f"xw0_{j}", "dil0", f"dol{j}", weight.channel.r_contact)
        else:
            pw = (_conduction(vec, time, f"xw0_{j}", f"m0_{j}", f"dol{j}", weight.channel.r_contact)
                  + _conduction(vec, time, f"xs0_{j}", "dil0", f"m0_{j}", sparsity.channel.r_contact))
        for q, p in enumerate(pulses):
            sel = (time >= t_start[p]) & (time <= t_end[p + 1])
            e_ch[j, q] = float(np.trapezoid(pw[sel], time[sel]))
    t_mid = t_start[pulses] + 0.5 * width
    t_gap = t_end[pulses + 1] - 0.05 * gap
    kb = wdev.n_bins
    qs = np.array([[vec[f"v(xw0_{j}.q{i})"] for i in range(kb)] for j in range(n)])  # (N, K, T)
    p_norm = np.array([sample(time, qs[j].mean(axis=0), t_gap) for j in range(n)])
    drive = np.array([sample(time, vec[f"v(xw0_{j}.fe)"], t_mid) for j in range(n)])
    sp_final = np.array([np.mean([vec[f"v(xs0_{j}.q{i})"][-1] for i in range(sdev.n_bins)]) for j in range(n)])
    return RowPulses(p_norm=p_norm, bins=qs[:, :, -1], drive=drive, energy_total=e_tot, energy_channel=e_ch,
                     sparsity_p=sp_final, dil=sample(time, vec["v(dil0)"], t_mid))


def role_pulses(weight: FeFETParams, sparsity: FeFETParams, scheme: Scheme, role: str, drives, width: float,
                gap: float, s_init=-1.0, n_cols: int = 8, backend: str = "auto") -> tuple[RowPulses, int]:
    """Pulses of target drives ``drives`` [V] (signed) on a cell in ``role`` (a column-step role).

    Returns the row result and the column index of the cell. Without a floating DIL a 1 x 1 deck; with
    one a 1 x ``n_cols`` row whose column 0 is selected (kept, or pruned for the masked roles) and the
    others unselected and kept."""
    drives = np.asarray(drives, dtype=float)
    if role not in ("full", "half", "masked_sel", "masked_half"):
        raise ParamError(f"role_pulses: role {role!r} is not a column-step role")
    kept = not role.startswith("masked")
    if not scheme.dil_floats:
        bl, dil, dol = (np.array([scheme.roles(a)[role][i] or 0.0 for a in drives]) for i in range(3))
        row = row_pulses(weight, sparsity, scheme, bl, dil, dol[None, :], width, gap, mask=[kept], s_init=s_init,
                         backend=backend)
        return row, 0
    n = max(2, int(n_cols))
    bl = scheme.col_bl * drives
    dol = np.tile(scheme.col_dol_unsel * drives, (n, 1))
    dol[0] = scheme.col_dol_sel * drives
    mask = np.ones(n, bool)
    mask[0] = kept
    s0 = np.full(n, float(s_init))
    row = row_pulses(weight, sparsity, scheme, bl, None, dol, width, gap, mask=mask, s_init=s0, backend=backend)
    return row, 0 if role in ("full", "masked_sel") else 1
