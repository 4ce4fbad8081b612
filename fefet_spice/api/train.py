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


def make_schedule(path=None, epochs: int | None = None, verify: bool = False):
    """The paper's schedule (or one from a ``fefet-train-schedule/1`` file), optionally shortened."""
    from ..errors import ParamError
    from ..train import schedule

    sch = schedule.load(path) if path else schedule.Schedule()
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
        return [quantity(f"{rule}: final test accuracy", r["final_accuracy"], "%"),
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


def train(dataset, lut, rule: str = "vau", schedule=None, *, seed: int = 0,
          on_epoch: Callable[[dict], None] | None = None, lut_name: str = "") -> TrainResult:
    """Train MSNet on ``dataset`` (a Dataset or a spec string) through ``lut`` with update ``rule``."""
    from ..train.trainer import train as run

    if isinstance(dataset, str):
        dataset = load_dataset(dataset, seed=seed)
    res = run(dataset, lut, rule, schedule or make_schedule(), seed=seed, on_epoch=on_epoch)
    res.update({"dataset": dataset.source, "classes": list(dataset.classes), "lut": lut_name})
    return TrainResult(res, dataset.source)
