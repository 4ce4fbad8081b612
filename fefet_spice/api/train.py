"""Training stage of the API: MSNet trained on-chip through a synapse LUT."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ._common import quantity, save_json_and_figure


def load_dataset(spec: str = "digits", seed: int = 0, classes=None, **kw):
    """``digits``, ``npz:PATH``, ``emnist:FOLDER`` or ``emnist-npz:PATH`` -> :class:`fefet_spice.train.data.Dataset`.

    Keywords (``n_train``, ``n_test`` per class, ``validation``) go to :func:`fefet_spice.train.data.load`.
    """
    from ..train import data

    return data.load(spec, seed=seed, classes=classes, **kw)


def make_schedule(path=None, epochs: int | None = None, verify: bool = False, protocol: str | None = None):
    """The schedule of ``protocol`` (default ``paper``: the paper's procedure, pruning, over-pruning and
    regrowth on the array; ``software-pruned``; ``scratch``), or one from a ``fefet-train-schedule/1``
    file (its fields over the protocol's defaults), optionally shortened."""
    from ..errors import ParamError
    from ..io.jsonfile import read_json_object
    from ..train import schedule

    if path:
        d = read_json_object(path, error=ParamError)
        if protocol is not None and isinstance(d, dict):
            if d.get("protocol", protocol) != protocol:
                raise ParamError(f"{path}: protocol is {d['protocol']!r} but --protocol {protocol} was given")
        name = protocol or (d.get("protocol", "paper") if isinstance(d, dict) else "paper")
        known = isinstance(name, str) and name in schedule.PROTOCOLS
        base = schedule.for_protocol(name if known else "paper").to_dict()   # an unknown one: from_dict says so
        sch = schedule.from_dict({**base, **d} if isinstance(d, dict) else d, str(Path(path)))
    else:
        sch = schedule.for_protocol(protocol or "paper")
    if epochs is not None:
        if epochs <= sch.pretrain_epochs:
            raise ParamError(f"--epochs {epochs}: must exceed the {sch.pretrain_epochs} pretraining epochs")
        sch = replace(sch, epochs=epochs)
    return replace(sch, verify=True) if verify else sch


@dataclass
class TrainResult:
    """Result of :func:`train`: the history and summary dict of the trainer (``record``)."""

    record: dict
    dataset: str
    files: list[Path] = field(default_factory=list)

    @property
    def final_accuracy(self) -> float:
        return self.record["final_accuracy"]

    @property
    def final_sparsity(self) -> float:
        return self.record["final_sparsity"]

    def onchip_steps(self) -> int:
        sch = self.record["schedule"]
        return sum(1 for r in self.record["epochs"] if r.get("phase") == "onchip") * int(sch.get("steps_per_epoch", 1))

    def operations_per_step(self) -> float | None:
        """Array operations per on-chip weight update (every layer), averaged."""
        steps = self.onchip_steps()
        return self.record["operations_total"] / steps if steps else None

    def quantities(self) -> list[dict]:
        r = self.record
        rule = r["rule"]
        dense = r.get("dense_software_accuracy")
        label = {"software-pruned": " (software pruning before transfer)",
                 "scratch": " (from random weights, no software training)"}.get(r.get("protocol"), "")
        off = r.get("accuracy_update_off")
        return [quantity(f"{rule}: final test accuracy{label}", r["final_accuracy"], "%"),
                quantity(f"{rule}: accuracy right after transfer", r.get("accuracy_after_transfer"), "%"),
                *([quantity(f"{rule}: the same run with the on-chip update switched off", off, "%"),
                   quantity(f"{rule}: on-chip contribution (final minus update off)", r["onchip_contribution"],
                            "%")] if off is not None else []),
                quantity(f"{rule}: update pulses (without pruning resets)", r.get("update_pulses"), "pulses"),
                *([quantity("dense MSNet trained in software (float) on the same images", dense, "%")]
                  if dense is not None else []),
                quantity(f"{rule}: final weight sparsity", r["final_sparsity"], "%"),
                quantity(f"{rule}: array operations per update", self.operations_per_step(), "operations"),
                quantity(f"{rule}: write pulses in total (updates and pruning resets)", r["pulses_total"], "pulses"),
                quantity(f"{rule}: wall time", r["wall_time_s"], "s")]

    def figure(self, title: str | None = None):
        from ..train.plots import plot_history

        return plot_history(self.record, title or f"MSNet, {self.dataset}")

    def save(self, json_path=None, plot_path=None) -> list[Path]:
        self.files = save_json_and_figure(self.record, self.figure, json_path, plot_path)
        return self.files


def array_cells(params, variation=None):
    """The weight FeFET of the array-in-the-loop cells (``train(..., array_params=...)``): ``params`` (a
    ``FeFETParams``, or a fit / parameter file or preset name) as the nominal device, with the device-to-
    device and cycle-to-cycle variation of ``variation`` (same kinds) when given; a ``variation`` that has
    none is refused (its run would be the nominal one under a variation label)."""
    from ..errors import ParamError
    from ..io.params_file import resolve_params
    from ..presets import nominal
    from ..train.array_layer import has_variation
    from .lut import with_variation_of

    cells = nominal(resolve_params(params) if isinstance(params, str) else params)
    if variation is None:
        return cells
    varied = with_variation_of(cells, resolve_params(variation) if isinstance(variation, str) else variation)
    if not has_variation(varied):
        raise ParamError(f"--array-variation {variation}: that device has no device-to-device or cycle-to-cycle "
                         "variation (sigma_ea_d2d, sigma_vt_d2d, sigma_c2c all 0)")
    return varied


def train(dataset, lut, rule: str = "vau", schedule=None, *, seed: int = 0,
          on_epoch: Callable[[dict], None] | None = None, lut_name: str = "", update_off: bool = True,
          array_params=None) -> TrainResult:
    """Train MSNet on ``dataset`` (a Dataset or a spec string) through ``lut`` with update ``rule``.

    The record holds what the array did: ``protocol``, ``accuracy_after_transfer``,
    ``accuracy_pruning_events`` ({epoch, kind, before, after}), ``final_accuracy``,
    ``accuracy_update_off`` (the same run with the on-chip update switched off; ``update_off`` False
    skips it), ``onchip_contribution`` (final minus update off, a fraction), ``onchip_recovery``
    (contribution over dense software minus update off; None when that is <= 0 or there is no dense
    software network), ``update_pulses`` (without pruning resets), ``prune_reset_pulses``, ``epochs_fired``.
    ``array_params`` (a weight FeFET, ``FeFETParams``): its compact model is the cells instead of the LUT
    (the array in the training loop; the LUT still chooses the pulse counts); with variation in it
    (``api.lut.with_variation_of(fit, presets.get("weight"))``) every cell is its own device sample and
    every pulse gets the cycle-to-cycle jitter, seeded by ``seed``; ``device_model`` says which.
    """
    from ..train.trainer import train as run

    from ..train.bounds import check_cells_fire_the_luts_pulses, check_inputs, check_result

    if isinstance(dataset, str):
        dataset = load_dataset(dataset, seed=seed)
    schedule = schedule or make_schedule()
    check_inputs(dataset, lut, schedule, lut_name=lut_name)  # refused before work: a meaningless run
    if array_params is not None and rule != "float":  # float updates never use the array's cells
        check_cells_fire_the_luts_pulses(array_params, lut, lut_name)
    res = run(dataset, lut, rule, schedule, seed=seed, on_epoch=on_epoch, update_off=update_off,
              array_params=array_params)
    check_result(res, len(dataset.classes), lut_name, dataset.source)  # non-finite or chance: a sentence
    res.update({"dataset": dataset.source, "classes": list(dataset.classes), "lut": lut_name})
    return TrainResult(res, dataset.source)
