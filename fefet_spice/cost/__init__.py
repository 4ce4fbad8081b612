"""Weight-update cost model: dense, external-index sparse and index-free FeFET arrays (SPEC 5)."""
from .model import DESIGNS, PAPER_INDEX_SHARE, PAPER_RATIOS, evaluate, headline_ratios, network_cost
from .networks import get_network, preset_sparsity, uniform_sparsity
from .params import ArchParams, DeviceEnergy, neurosim_reference_device

__all__ = ["ArchParams", "DESIGNS", "DeviceEnergy", "PAPER_INDEX_SHARE", "PAPER_RATIOS", "evaluate",
           "get_network", "headline_ratios", "network_cost", "neurosim_reference_device",
           "preset_sparsity", "uniform_sparsity"]
