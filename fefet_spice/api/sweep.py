"""Device sweep of the API: the same training protocol over several synapse LUTs, a table and a figure of
accuracy against device properties (levels, nonlinearity, noise)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ._common import save_json_and_figure


@dataclass
class SweepResult:
    """Result of :func:`device_sweep`: one table row per LUT (``table``) and every run (``runs``)."""

    table: list[dict]
    runs: list[dict]
    protocol: str
    rule: str
    dataset: str
    step_unit: float = 0.0
    """On-chip step unit of every run (fraction of the weight range; 0: each device's own pulse)."""
    reference: str | None = None
    """LUT whose mean pulse set ``step_unit`` (None: the step is in each device's pulses)."""
    files: list[Path] = field(default_factory=list)

    def record(self) -> dict:
        return {"protocol": self.protocol, "rule": self.rule, "dataset": self.dataset, "step_unit": self.step_unit,
                "step_reference": self.reference, "table": self.table, "runs": self.runs}

    def csv(self) -> str:
        cols = ("lut", "levels", "nonlinearity", "asymmetry", "noise", "read_noise_levels", "seeds",
                "final_accuracy", "final_accuracy_std", "accuracy_update_off", "onchip_contribution",
                "accuracy_after_transfer")

        def fmt(v):
            return "" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v))

        return "\n".join([",".join(cols)] + [",".join(fmt(r.get(c)) for c in cols) for r in self.table]) + "\n"

    def figure(self):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
        for ax, key, label in zip(axes, ("levels", "nonlinearity", "noise"),
                                  ("levels (pulses from 5 % to 95 % of the range)", "nonlinearity (NeuroSim label)",
                                   "cycle-to-cycle noise (median σ/µ of a step)")):
            for r in self.table:
                ax.errorbar(r[key], 100 * r["final_accuracy"], yerr=100 * (r["final_accuracy_std"] or 0), fmt="o",
                            capsize=3)
                ax.annotate(r["lut"], (r[key], 100 * r["final_accuracy"]), textcoords="offset points", xytext=(4, 4),
                            fontsize=8)
                if r["accuracy_update_off"] is not None:
                    ax.plot(r[key], 100 * r["accuracy_update_off"], "x", color="grey")
            ax.set_xlabel(label)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(f"final accuracy ({self.rule}) [%]; x: update off")
        fig.suptitle(f"Device sweep, protocol {self.protocol}, {_short_dataset(self.dataset)}")
        fig.tight_layout()
        return fig

    def save(self, json_path=None, plot_path=None, csv_path=None) -> list[Path]:
        from ..io.atomic import write_text

        self.files = save_json_and_figure(self.record(), self.figure, json_path, plot_path)
        if csv_path:
            self.files.append(write_text(csv_path, self.csv()))
        return self.files


def _short_dataset(spec: str) -> str:
    """A dataset spec for a figure title: the file name without the folders of this machine."""
    kind, sep, path = str(spec).partition(":")
    return f"{kind}:{Path(path).name}" if sep and path else str(spec)


def device_sweep(luts: dict, dataset, *, rule: str = "vau", schedule=None, seeds=(0, 1, 2), n_train: int = 50,
                 validation: bool = False, step: str = "reference", reference: str | None = None, jobs: int = 1,
                 executor: str | None = None, scheduler=None, on_run=None) -> SweepResult:
    """Train ``rule`` under ``schedule`` (default: the paper protocol) through every LUT of ``luts``
    (name -> :class:`SynapseLUT`), ``seeds`` each on ``dataset`` (a spec string; each seed its own
    images). Returns the per-LUT table (device properties, mean and std of the final accuracy, the
    update-off accuracy, the on-chip contribution).

    ``step``: ``"reference"`` (default) gives the on-chip step in weight units, the schedule's
    ``step_unit`` set to the mean pulse of the LUT ``reference`` (a name in ``luts``; default
    ``weight_ref`` if present, else the first), so every device is asked for the same weight change;
    ``"pulse"`` in each device's own mean pulse (a schedule with ``step_unit`` > 0 keeps its own).

    Where the runs go, as in :func:`fefet_spice.api.characterize`: ``executor`` ``"serial"`` (this
    process), ``"pool"`` (a local process pool of ``jobs`` workers, at most 2) or ``"dask"`` (the Dask
    cluster at ``scheduler``: an address such as ``tcp://host:8786`` or a ``distributed.Client``); by
    default ``"dask"`` when ``scheduler`` is given, else ``"pool"`` for ``jobs`` > 1, else ``"serial"``.
    Every run is seeded by its own seed only, so the result does not depend on where it ran."""
    from ..characterize.runner import run_jobs
    from ..train.sweep import device_properties, run_one, summarize
    from .train import load_dataset, make_schedule

    from ..errors import ParamError
    from ..train.sweep import mean_pulse

    sch = schedule or make_schedule()
    if step not in ("reference", "pulse"):
        raise ParamError(f"step must be 'reference' or 'pulse', got {step!r}")
    ref_name = reference or ("weight_ref" if "weight_ref" in luts else next(iter(luts)))
    if ref_name not in luts:
        raise ParamError(f"reference {ref_name!r} is not one of the sweep's LUTs ({', '.join(luts)})")
    if step == "reference" and sch.step_unit == 0:
        sch = replace(sch, step_unit=mean_pulse(luts[ref_name]))
    if executor is None:
        executor = "dask" if scheduler is not None else ("pool" if jobs > 1 else "serial")
    sets = {s: load_dataset(dataset, seed=s, n_train=n_train, validation=validation) for s in seeds}
    tasks = [(name, lut, sets[s], rule, sch, s) for name, lut in luts.items() for s in seeds]
    done = {}

    def arrived(task, row):
        done[(task[0], task[5])] = row
        if on_run:
            on_run(row)

    run_jobs(run_one, tasks, arrived, executor=executor, workers=jobs, scheduler=scheduler)
    runs = [done[(t[0], t[5])] for t in tasks]          # the order of the LUTs and seeds, wherever they ran
    props = {name: device_properties(lut, sch.levels) for name, lut in luts.items()}
    return SweepResult(summarize(runs, props), runs, sch.protocol, rule, sets[seeds[0]].source,
                       step_unit=sch.step_unit, reference=ref_name if step == "reference" else None)


def make_device_luts(folder, reference="luts/weight_ref", n_devices: int = 16, seed: int = 0) -> list[Path]:
    """Write the sweep LUTs (``ideal``, ``noisy``, ``nonlinear``; :func:`fefet_spice.train.sweep.make_devices`),
    one native LUT folder each, from the reference LUT folder ``reference`` (weight_ref: same G range and
    number of levels; noisy: its mean response) and the compact model's weight preset (``n_devices``, ``seed``)."""
    from .. import presets
    from ..lut.native import load_lut, save_lut
    from ..train.sweep import make_devices

    luts = make_devices(load_lut(reference), presets.get("weight"), n_devices=n_devices, seed=seed)
    return [save_lut(Path(folder) / name, lut) for name, lut in luts.items()]
