"""The Python API: one function per stage, typed inputs, result objects that save themselves.

The CLI subcommands and the main job (``fefet-spice run``) call these functions; a notebook can too::

    from fefet_spice import api, presets
    fit = api.fit_device(["measurements/weight"], presets.get("weight"), name="weight_fit")
    char = api.characterize(fit.params, presets.get("sparsity"), variation_from=presets.get("weight"))
    result = api.train("digits", char.lut, "vau")
    print(result.final_accuracy, api.cost("vgg8", device="neurosim").ratios)
"""
from . import capacitor
from .capacitor import CapacitorFit, CapacitorPrediction, fit_capacitor, predict_capacitor, read_qv
from .cost import CostResult, cost, device_energy
from .device import FitResult, Simulation, TableFit, fit_device, fit_table, read_measurements, simulate
from .lut import Characterization, Export, characterize, export_lut, with_variation_of
from .schemes import SchemesResult, schemes
from .spice import Energies, Netlists, energies, netlists
from .sweep import SweepResult, device_sweep
from .train import TrainResult, array_cells, load_dataset, make_schedule, train

__all__ = ["CapacitorFit", "array_cells", "CapacitorPrediction", "Characterization", "CostResult", "Energies", "Export", "FitResult",
           "Netlists", "SchemesResult", "Simulation", "SweepResult", "TableFit", "TrainResult", "characterize", "cost",
           "device_energy", "device_sweep", "energies", "export_lut", "fit_capacitor", "predict_capacitor", "read_qv",
           "fit_device", "fit_table", "load_dataset", "make_schedule", "netlists", "read_measurements", "schemes", "simulate",
           "train", "with_variation_of"]
