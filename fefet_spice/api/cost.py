"""Cost stage of the API: weight-update energy and latency of dense, sparse and index-free designs."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ._common import quantity, save_json_and_figure

RATIO_LABELS = {"element_vs_dense": "element-sparse (external index) vs dense, times worse",
                "index_free_vs_element": "index-free vs element-sparse, times lower",
                "index_free_vs_dense": "index-free vs dense, times lower",
                "index_free_diff_vs_element": "index-free differential vs element-sparse, times lower"}


RATIO_PAIRS = {"element_vs_dense": ("element-sparse (external index)", "dense"),
               "index_free_vs_element": ("index-free", "element-sparse"),
               "index_free_vs_dense": ("index-free", "dense"),
               "index_free_diff_vs_element": ("index-free differential", "element-sparse")}
"""The ratios of the cost report as (first, second): quantities give what the first costs over the second."""


def device_energy(device=None):
    """``None`` (documented defaults), ``"neurosim"`` (DNN+NeuroSim V2.1 FeFET), a ``DeviceEnergy``, an
    energy dict from :func:`fefet_spice.api.energies` or a ``fefet-energy/1`` file -> (DeviceEnergy, source)."""
    from ..cost.energy_file import load_energy
    from ..cost.params import DeviceEnergy, neurosim_reference_device

    if device is None:
        return DeviceEnergy(), "defaults"
    if isinstance(device, DeviceEnergy):
        return device, "given"
    if device == "neurosim":
        return neurosim_reference_device(), "neurosim-v2.1-defaults"
    if hasattr(device, "record"):  # an api Energies result
        device = device.record
    if isinstance(device, dict):
        from ..cost.energy_file import device_from_dict

        return device_from_dict(device, "energies"), "ngspice (this run)"
    return load_energy(device), str(device)


@dataclass
class CostResult:
    """Result of :func:`cost`: the ``fefet-cost/1`` report dict."""

    report: dict
    device_source: str
    files: list[Path] = field(default_factory=list)

    @property
    def ratios(self) -> dict:
        return self.report["headline_ratios"]["ours"]

    def half_select_share(self, design: str = "index_free") -> float | None:
        """Fraction of ``design``'s update energy spent in half-selected cells."""
        detail = self.report["breakdown"][design].get("array_detail_j") or {}
        total = self.report["designs"][design]["energy_j"]
        hs = detail.get("half_select")
        return float(hs) / total if hs is not None and total > 0 else None

    def table(self) -> str:
        from ..cost.report import format_table

        return format_table(self.report)

    def quantities(self) -> list[dict]:
        out = []
        for key, (first, second) in RATIO_PAIRS.items():
            r = self.ratios.get(key)
            for what in ("energy", "latency") if r else ():
                # the ratio as "first costs N x the second's", direction in words: no "0.33 x lower"
                cost = 1.0 / r[what] if key != "element_vs_dense" else r[what]
                word = "more" if cost > 1 else "less"
                out.append(quantity(f"{what}: {first} ÷ {second}", cost, "×",
                                    note=f"{first} costs {max(cost, 1 / cost):.3g} × {word}"))
        d = self.report["designs"]["dense"]
        out.append(quantity("dense update: energy per weight update", d["energy_j"], "J"))
        out.append(quantity("dense update: latency per weight update", d["latency_s"], "s"))
        return out

    def figure(self, title: str | None = None):
        from ..cost.plot import plot_report

        return plot_report(self.report, title or f"{self.report['network']}, device: {self.device_source}")

    def save(self, json_path=None, plot_path=None) -> list[Path]:
        self.files = save_json_and_figure(self.report, self.figure, json_path, plot_path)
        return self.files


def cost(network: str = "vgg8", sparsity="preset", device=None, arch=None, *, sparsity_source: str | None = None,
         with_schedule: bool | None = None) -> CostResult:
    """Weight-update cost of ``network`` (vgg8, msnet) at ``sparsity`` ('preset', a number for every layer,
    a {layer: sparsity} dict) with the device numbers of ``device`` (see :func:`device_energy`)."""
    from ..cost.energy_file import device_to_dict
    from ..cost.networks import get_network, preset_sparsity, uniform_sparsity
    from ..cost.params import ArchParams
    from ..cost.report import build_report

    layers = get_network(network)
    if isinstance(sparsity, str) and sparsity == "preset":
        sp, source = preset_sparsity(network), "preset"
    elif isinstance(sparsity, (int, float)):
        sp, source = uniform_sparsity(layers, float(sparsity)), f"uniform {float(sparsity):g}"
    else:
        sp, source = dict(sparsity), "given"
    dev, dev_src = device_energy(device)
    record = device_to_dict(dev)
    record["from"] = dev_src
    if with_schedule is None:
        with_schedule = network == "vgg8" and source == "preset"
    rep = build_report(network, layers, sp, dev, arch or ArchParams(), record, sparsity_source or source,
                       with_schedule=with_schedule)
    return CostResult(rep, dev_src)
