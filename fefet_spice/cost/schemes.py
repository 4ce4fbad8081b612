"""Programming schemes in the cost model (pure numerics): a measured scheme point -> device numbers ->
index-free gains; half-select counts of a training run; the device change a target gain needs.

A point (one scheme, one pulse width, measured by :func:`fefet_spice.spice.scheme_points.measure_point`)
replaces the write fields of a base :class:`DeviceEnergy` (read and sparsity-write energies stay the
base's). The cost model then charges every active cell ``(N - 1) x slots`` half-select pulses per VAU
update and every pruned cell its measured masked energies.
"""
from __future__ import annotations

from dataclasses import replace

from .model import evaluate
from .networks import get_network, preset_sparsity
from .params import ArchParams, DeviceEnergy

TRAINING_UPDATES = {"vgg8": 45 * 50_000 // 200, "msnet": 47 * 5}
"""Weight updates of one training run: VGG-8 45 epochs of CIFAR-10 (50,000 images) at batch 200
(DNN+NeuroSim V2.1's training default; our assumption for the paper's run); MSNet on-chip epochs 11
to 57 (SPEC 4) with the trainer's default of 5 full-batch Adam updates per epoch."""


def disturb_pulse_counts(network: str = "vgg8", arch: ArchParams = ArchParams(),
                         updates: int | None = None) -> dict[str, float]:
    """Pulses a cell sees in one training run, per role: ``half`` (an active cell in the N - 1 unselected
    columns of every column step), ``masked_sel`` and ``masked_half`` (a pruned cell in the selected
    and in the unselected columns)."""
    u = TRAINING_UPDATES[network] if updates is None else int(updates)
    slots = arch.pulse_slots_per_phase
    n = arch.array_cols
    return {"half": float(u * (n - 1) * slots), "masked_sel": float(u * slots),
            "masked_half": float(u * (n - 1) * slots), "updates": float(u)}


PARTS = ("all", "gate")
"""What :func:`required_write_scale` scales: every write energy, or only the non-conduction part (gate
charging, switched polarization, lines: proportional to the ferroelectric capacitor area)."""


def _scaled(point: dict, total: str, channel: str, f: float, part: str) -> float:
    e, ch = point[total], point[channel]
    return f * e if part == "all" else ch + f * (e - ch)


def point_device(base: DeviceEnergy, point: dict, scale_write: float = 1.0, part: str = "all") -> DeviceEnergy:
    """The device numbers of a measured point; write energies optionally scaled by ``scale_write``
    (``part='gate'``: only their non-conduction share)."""
    f = float(scale_write)
    half = point["half_select_gate_energy_j"] + point["half_select_channel_energy_j"]
    return replace(base,
                   write_energy_per_pulse_j=_scaled(point, "write_energy_per_pulse_j", "write_channel_energy_j", f, part),
                   write_energy_half_select_j=(f * half if part == "all" else
                                               point["half_select_channel_energy_j"]
                                               + f * point["half_select_gate_energy_j"]),
                   write_energy_masked_select_j=_scaled(point, "masked_sel_energy_j", "masked_sel_channel_energy_j",
                                                        f, part),
                   write_energy_masked_half_j=_scaled(point, "masked_half_energy_j", "masked_half_channel_energy_j",
                                                      f, part),
                   write_pulse_width_s=point["width_s"],
                   write_pulse_amplitude_v=max(abs(point["bl_v"]), abs(point["amplitude_v"])),
                   provenance={"source": "fefet-spice schemes", "scheme": point["scheme"],
                               "width_s": point["width_s"], "write_scale": f})


def gains(dev: DeviceEnergy, arch: ArchParams = ArchParams()) -> dict[str, float]:
    """Index-free energy and latency gains (x lower) over dense and element-sparse, VGG-8 and MSNet at
    their preset sparsity."""
    out = {}
    for net in ("vgg8", "msnet"):
        res = evaluate(get_network(net), preset_sparsity(net), dev, arch,
                       designs=("dense", "element", "index_free"))
        f = res["index_free"]
        for ref in ("dense", "element"):
            out[f"gain_energy_vs_{ref}_{net}"] = res[ref]["energy_j"] / f["energy_j"]
            out[f"gain_latency_vs_{ref}_{net}"] = res[ref]["latency_s"] / f["latency_s"]
        out[f"index_free_energy_j_{net}"] = f["energy_j"]
    return out


def required_write_scale(base: DeviceEnergy, point: dict, target: float = 5.0,
                         arch: ArchParams = ArchParams(), part: str = "all") -> float:
    """Factor (<= 1) by which the per-cell write energies of ``point`` (``part``: all of them, or only the
    non-conduction share, see :data:`PARTS`) must fall for index-free to reach ``target`` x lower energy
    than element-sparse on VGG-8 (1.0 if it already does, 0.0 if no factor down to 1e-9 does: then what
    is left — conduction, static power x latency, transfers — keeps the gain below ``target``)."""
    def gain(f):
        return gains(point_device(base, point, f, part), arch)["gain_energy_vs_element_vgg8"]
    if gain(1.0) >= target:
        return 1.0
    lo, hi = 1e-9, 1.0
    if gain(lo) < target:
        return 0.0
    for _ in range(50):
        mid = (lo * hi) ** 0.5
        if gain(mid) >= target:
            lo = mid
        else:
            hi = mid
    return lo
