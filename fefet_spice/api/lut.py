"""LUT stages of the API: characterize a weight FeFET in its cell, export the LUT for other simulators."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ..errors import ParamError
from ..params import FeFETParams
from ._common import quantity

VARIATION_FIELDS = ("sigma_ea_d2d", "sigma_vt_d2d", "sigma_c2c", "read_noise")
MASK_BUDGET = 0.01
"""A masked (pruned) cell may change by at most this fraction of a selected cell's mean step per pulse."""
DISTURB_BUDGET = 0.05
"""A half-selected cell may change by at most this fraction of a selected cell's mean step per pulse."""


def with_variation_of(params: FeFETParams, source: FeFETParams) -> FeFETParams:
    """``params`` with the variation and noise fields of ``source`` (a fit of one device cannot measure them)."""
    return replace(params, **{f: getattr(source, f) for f in VARIATION_FIELDS})


@dataclass
class Characterization:
    """Result of :func:`characterize`: the synapse LUT and the Monte Carlo responses behind it."""

    result: object  # fefet_spice.characterize.Characterization
    config: object  # CharConfig
    files: list[Path] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)

    @property
    def lut(self):
        return self.result.lut

    def summary(self) -> dict:
        """JSON-ready figures of merit and mean responses (the ``characterization.json`` document)."""
        lut, res, c = self.lut, self.result, self.config
        m = lut.meta
        return {"backend": c.backend, "seed": c.seed, "n_devices": c.n_devices, "n_pulses": c.n_pulses,
                "g_min_S": lut.g_min, "g_max_S": lut.g_max, "levels": m["levels"], "masked_ratio": m["masked_ratio"],
                "disturb_ratio": m["disturb_ratio"], "provenance": m["provenance"],
                "kinds": [{"polarity": k.polarity, "amplitude": k.amplitude, "width": k.width} for k in lut.kinds],
                "mean_trajectory_S": {f"pair{j}": res.traj[:, j].mean(0) for j in range(res.traj.shape[1])},
                "masked_mean_S": res.masked.mean(0), "disturb_mean_S": res.disturb.mean(0),
                **({"dg_source": m["dg_source"]} if "dg_source" in m else {})}

    def warnings(self) -> list[str]:
        m, out = self.lut.meta, []
        if m.get("masked_ratio") is not None and m["masked_ratio"] > MASK_BUDGET:
            out.append(f"masking: a pruned cell still moves {100 * m['masked_ratio']:.2g} % of a selected step per "
                       f"pulse (budget {100 * MASK_BUDGET:g} %)")
        if m.get("disturb_ratio") is not None and m["disturb_ratio"] > DISTURB_BUDGET:
            out.append(f"disturb over budget: a half-selected cell moves {100 * m['disturb_ratio']:.2g} % of a "
                       f"selected step per pulse (budget {100 * DISTURB_BUDGET:g} %)")
        return out

    def quantities(self) -> list[dict]:
        lut, m = self.lut, self.lut.meta
        lv = m["levels"]
        return [quantity("G_min (mean of devices, noise-free)", max(lut.g_min, 0.0), "S"),
                quantity("G_max (mean of devices, noise-free)", lut.g_max, "S"),
                quantity("conductance range", lut.g_max - lut.g_min, "S"),
                quantity("distinguishable levels, potentiation", lv["up"], "levels"),
                quantity("distinguishable levels, depression", lv["down"], "levels"),
                quantity("masked / selected change per pulse", m["masked_ratio"], "%",
                         note=f"budget {100 * MASK_BUDGET:g} %", warn=(m["masked_ratio"] or 0) > MASK_BUDGET),
                quantity("half-selected / selected change per pulse", m["disturb_ratio"], "%",
                         note=f"budget {100 * DISTURB_BUDGET:g} %", warn=(m["disturb_ratio"] or 0) > DISTURB_BUDGET),
                quantity("read noise (σ of one read)", getattr(self.config.weight, "read_noise", None), "S"),
                quantity("Monte Carlo devices", self.config.n_devices, "devices"),
                quantity("identical pulses per branch", self.config.n_pulses, "pulses")]

    def save(self, folder, plots: bool = True) -> list[Path]:
        """Write ``lut.npz``, ``lut.json``, ``characterization.json`` and (``plots``) two figures."""
        from ..io.atomic import save_figure, write_json
        from ..lut.native import save_lut

        out = Path(folder)
        save_lut(out, self.lut)
        write_json(out / "characterization.json", {"lut": str(out), **self.summary()})
        self.files = [out / "lut.json", out / "lut.npz", out / "characterization.json"]
        self.figures = []
        if plots:
            from ..characterize.plots import plot_dg_bands, plot_trajectories

            name = self.config.weight.name
            self.figures = [save_figure(plot_trajectories(self.result, f"{name}: conductance vs pulse number"),
                                        out / "g_vs_pulse.png"),
                            save_figure(plot_dg_bands(self.lut, f"{name}: ΔG per pulse vs G{_traffic_note(self.lut)}"),
                                        out / "dg_vs_g.png")]
        return self.files + self.figures


def _traffic_note(lut) -> str:
    from ..lut.core import traffic_source

    src = traffic_source(lut)
    return (f" (under training traffic: {src['n_traffic']} random-sign pulses per device, reversal "
            f"probability {src['p_reverse']:g})" if src else "")


def characterize(weight: FeFETParams, sparsity: FeFETParams, *, variation_from: FeFETParams | None = None,
                 backend: str = "numpy", n_devices: int = 64, n_pulses: int = 64, seed: int = 0, n_probe: int = 16,
                 pulses=(), topology: str = "B", v_comp: float | None = None, n_g: int = 64,
                 executor: str = "pool", workers: int = 2, scheduler=None, cache=None,
                 progress: Callable[[int, int], None] | None = None, extra: dict | None = None,
                 n_traffic: int = 0, p_reverse: float | None = None) -> Characterization:
    """Monte Carlo conductance-update characterization (numpy model or ngspice) -> :class:`Characterization`.

    ``cache``: per-job result folder for resuming (kept); None uses a temporary one, removed on success.
    ``n_traffic`` > 0: that many random-sign pulses per device (each reversing the last with probability
    ``p_reverse``, default 0.65, as on-chip training fires them) give the LUT's ΔG statistics of the first
    pulse pair instead of the monotone sweeps (``CharConfig.n_traffic``); ``lut.meta["dg_source"]`` says so."""

    from ..characterize import CharConfig, characterize as run

    if p_reverse is not None and not n_traffic:
        raise ParamError("p_reverse (--p-reverse) shapes the traffic pulses: it needs n_traffic > 0 (--traffic N)")
    if variation_from is not None:
        weight = with_variation_of(weight, variation_from)
    config = CharConfig(weight=weight, sparsity=sparsity, pulses=tuple(pulses), n_pulses=n_pulses,
                        n_devices=n_devices, seed=seed, n_probe=n_probe, backend=backend, topology=topology,
                        v_comp=v_comp, extra=dict(extra or {}), n_traffic=n_traffic,
                        p_reverse=0.65 if p_reverse is None else p_reverse)
    from ..io import tempdirs

    tmp = None if cache is not None else tempdirs.make("fefet-char-")  # a killed run's folder: swept next time
    try:
        res = run(config, executor=executor, workers=workers, scheduler=scheduler, cache=cache or tmp,
                  n_g=n_g, progress=progress)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return Characterization(res, config)


FORMATS = ("native", "aihwkit", "neurosim", "crosssim")


@dataclass
class Export:
    """Result of :func:`export_lut`: the files written and what the target format made of the LUT."""

    format: str
    folder: Path
    files: list[Path]
    manifest: Path
    info: dict = field(default_factory=dict)


def export_lut(lut, fmt: str, folder, *, source: str = "", nodes: int = 32, n_cdf: int = 21,
               neurosim_source=None) -> Export:
    """Write ``lut`` as ``fmt`` (native, aihwkit, neurosim, crosssim) into ``folder`` with a manifest.

    ``neurosim_source``: a MLP_NeuroSim_V3.0 / DNN_NeuroSim_V2.1 checkout; NeuroSim exports then include
    ``neurosim.patch`` for it (``patch -p1``).
    """
    from ..io.atomic import write_json
    from ..lut.native import save_lut

    out = Path(folder)
    info: dict = {}
    if fmt == "native":
        files = [save_lut(out, lut) / "lut.npz", out / "lut.json"]
    elif fmt == "aihwkit":
        from ..lut.export_aihwkit import write_aihwkit

        files = write_aihwkit(lut, out, n_nodes=nodes)
    elif fmt == "neurosim":
        from ..lut.export_neurosim import realdevice, write_neurosim

        files = write_neurosim(lut, out, source=neurosim_source, origin=source)
        rd = realdevice(lut)["RealDevice"]
        info = {k: rd[k] for k in ("NL_LTP", "NL_LTD", "maxNumLevelLTP", "maxNumLevelLTD") if k in rd}
    elif fmt == "crosssim":
        from ..lut.export_crosssim import write_crosssim

        files = write_crosssim(lut, out, n_cdf=n_cdf)
    else:
        raise ParamError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    manifest = write_json(out / f"export_{fmt}.json", {
        "format": fmt, "source": source, "files": [p.name for p in files],
        "source_npz_sha256": lut.meta.get("npz_sha256"), "docs": "docs/lut_exports.md"})
    return Export(fmt, out, [Path(p) for p in files], manifest, info)
