"""Readers of the cost model's input files (the IO layer of :mod:`fefet_spice.cost`).

* ``fefet-energy/1`` -- device numbers written by the SPICE characterization (one object, every
  :class:`~fefet_spice.cost.params.DeviceEnergy` field, SI units, plus ``schema`` and a free-form
  ``provenance`` object). Unknown or missing keys are errors naming the file and the key.
* ``fefet-sparsity/1`` -- per-layer sparsity: ``{"schema": "fefet-sparsity/1", "sparsity":
  {"conv1": 0.5, ...}}``.
"""
from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

from ..errors import DataError, ParamError
from ..io.jsonfile import read_json_object
from .networks import Layer, check_layer_sparsity
from .params import ENERGY_SCHEMA, DeviceEnergy

SPARSITY_SCHEMA = "fefet-sparsity/1"


def _read_json(path: Path) -> dict:
    return read_json_object(path)


def device_from_dict(data: dict, where: str = "energy") -> DeviceEnergy:
    """Validate a ``fefet-energy/1`` object and build a :class:`DeviceEnergy`."""
    schema = data.get("schema")
    if schema != ENERGY_SCHEMA:
        raise DataError(f"{where}: schema must be {ENERGY_SCHEMA!r}, got {schema!r}")
    names = {f.name for f in fields(DeviceEnergy)}
    keys = set(data) - {"schema"}
    unknown = sorted(keys - names)
    if unknown:
        raise DataError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(names - keys - {"provenance", "write_energy_masked_select_j", "write_energy_masked_half_j"})
    if missing:
        raise DataError(f"{where}: missing key(s) {', '.join(missing)}")
    kwargs = {k: v for k, v in data.items() if k != "schema"}
    try:
        return DeviceEnergy(**kwargs)
    except ParamError as exc:
        raise DataError(f"{where}: {exc}") from None


def load_energy(path: str | os.PathLike) -> DeviceEnergy:
    """Read a ``fefet-energy/1`` JSON file; errors name the file and the field."""
    path = Path(path)
    return device_from_dict(_read_json(path), str(path))


def device_to_dict(dev: DeviceEnergy) -> dict:
    """The ``fefet-energy/1`` object of a :class:`DeviceEnergy`."""
    out = {"schema": ENERGY_SCHEMA}
    out.update({f.name: getattr(dev, f.name) for f in fields(dev)})
    if out["provenance"] is None:
        out["provenance"] = {"source": "DeviceEnergy defaults (analytic estimate for the weight preset)"}
    return out


def load_sparsity(path: str | os.PathLike, layers: tuple[Layer, ...]) -> dict[str, float]:
    """Read a ``fefet-sparsity/1`` JSON file and check it against the network's layers."""
    path = Path(path)
    data = _read_json(path)
    if data.get("schema") != SPARSITY_SCHEMA:
        raise DataError(f"{path}: schema must be {SPARSITY_SCHEMA!r}, got {data.get('schema')!r}")
    extra = sorted(set(data) - {"schema", "sparsity", "provenance"})
    if extra:
        raise DataError(f"{path}: unknown key(s) {', '.join(extra)}")
    if not isinstance(data.get("sparsity"), dict):
        raise DataError(f"{path}: 'sparsity' must be an object layer -> value")
    try:
        return check_layer_sparsity(layers, data["sparsity"], where=f"{path}: sparsity")
    except ParamError as exc:
        raise DataError(str(exc)) from None
