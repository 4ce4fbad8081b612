"""Networks of the cost model as weight matrices (rows = fan-in, columns = fan-out) and their
sparsity presets.

A convolution with k x k kernels, C_in inputs and C_out outputs is mapped as a (k k C_in) x C_out
matrix (NeuroSim's conventional mapping); a fully connected layer as in x out.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParamError


@dataclass(frozen=True)
class Layer:
    """One weight layer as a matrix."""

    name: str
    """Layer name [-]."""
    rows: int
    """Fan-in = matrix rows [-] (k*k*C_in for a convolution)."""
    cols: int
    """Fan-out = matrix columns [-] (C_out)."""

    @property
    def weights(self) -> int:
        """Number of weights [-]."""
        return self.rows * self.cols


def _conv(name: str, cin: int, cout: int, k: int) -> Layer:
    return Layer(name, k * k * cin, cout)


def vgg8() -> tuple[Layer, ...]:
    """VGG-8 for CIFAR-10 (SPEC 5): C128-C128-MP-C256-C256-MP-C512-C512-MP-FC8192x1024-FC1024x10,
    3x3 convolutions, 12,973,440 weights."""
    return (_conv("conv1", 3, 128, 3), _conv("conv2", 128, 128, 3), _conv("conv3", 128, 256, 3),
            _conv("conv4", 256, 256, 3), _conv("conv5", 256, 512, 3), _conv("conv6", 512, 512, 3),
            Layer("fc1", 8192, 1024), Layer("fc2", 1024, 10))


def msnet() -> tuple[Layer, ...]:
    """MSNet of the on-chip demo (SPEC 4): conv1 4x1x5x5, conv2 8x4x5x5, FC 32x5: 1,060 weights."""
    return (_conv("conv1", 1, 4, 5), _conv("conv2", 4, 8, 5), Layer("fc", 32, 5))


NETWORKS = {"vgg8": vgg8, "msnet": msnet}

#: Final per-layer sparsity of the paper's runs. VGG-8: 88.5 % overall after three pruning steps;
#: the paper gives no per-layer split, so every layer gets 88.5 % (our assumption). MSNet: the
#: per-layer values reported at the end of the demo (SPEC 4), about 74 % overall.
PRESET_FINAL = {
    "vgg8": {name: 0.885 for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1", "fc2")},
    "msnet": {"conv1": 0.52, "conv2": 0.80, "fc": 0.59},
}

#: The three-step schedule to 88.5 % over 45 epochs (paper: "three-step pruning"). Step epochs and
#: intermediate targets are ours: equal thirds of the log-density, 1 - 0.115**(k/3), at epochs 0/15/30.
VGG8_SCHEDULE = ((0, 0.0), (15, 1 - 0.115 ** (1 / 3)), (30, 1 - 0.115 ** (2 / 3)), (40, 0.885))
VGG8_EPOCHS = 45


def get_network(name: str) -> tuple[Layer, ...]:
    """A network by name (``vgg8`` or ``msnet``)."""
    try:
        return NETWORKS[name]()
    except KeyError:
        raise ParamError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}") from None


def uniform_sparsity(layers: tuple[Layer, ...], s: float) -> dict[str, float]:
    """The same sparsity for every layer."""
    check_sparsity("sparsity", s)
    return {layer.name: float(s) for layer in layers}


def preset_sparsity(network: str) -> dict[str, float]:
    """Final per-layer sparsity of the paper's schedule for ``network``."""
    get_network(network)
    return dict(PRESET_FINAL[network])


def overall_sparsity(layers: tuple[Layer, ...], sparsity: dict[str, float]) -> float:
    """Weight-weighted sparsity over the whole network [-]."""
    total = sum(layer.weights for layer in layers)
    return sum(layer.weights * sparsity[layer.name] for layer in layers) / total


def check_sparsity(path: str, s) -> float:
    """Validate a sparsity value in [0, 1)."""
    if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= s < 1.0:
        raise ParamError(f"{path}: sparsity must be a number in [0, 1), got {s!r}")
    return float(s)


def check_layer_sparsity(layers: tuple[Layer, ...], sparsity: dict, where: str = "sparsity") -> dict[str, float]:
    """Every layer present, no unknown layer, values in [0, 1)."""
    names = [layer.name for layer in layers]
    unknown = sorted(set(sparsity) - set(names))
    if unknown:
        raise ParamError(f"{where}: unknown layer(s) {', '.join(unknown)}; layers are {', '.join(names)}")
    missing = [n for n in names if n not in sparsity]
    if missing:
        raise ParamError(f"{where}: missing layer(s) {', '.join(missing)}")
    return {n: check_sparsity(f"{where}.{n}", sparsity[n]) for n in names}
