"""Reading and writing parameter files (``fefet-params`` JSON, schema version 1).

A fit result file (``fits/*.json``) is accepted too: its ``device`` entry holds the parameter set.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError, ParamError
from ..params import FeFETParams, from_dict, to_dict
from .atomic import write_json
from .jsonfile import read_json_object


def load_params(path: str | os.PathLike) -> FeFETParams:
    """Load and validate a parameter file; errors name the file and the field."""
    path = Path(path)
    data = read_json_object(path, error=ParamError)
    if isinstance(data, dict) and "device" in data and str(data.get("schema", "fefet-fit")).startswith("fefet-fit"):
        data = data["device"]
    try:
        return from_dict(data)
    except ParamError as exc:
        raise ParamError(f"{path}: {exc}") from None


def save_params(path: str | os.PathLike, params: FeFETParams) -> Path:
    """Atomically write ``params`` as versioned JSON."""
    return write_json(path, to_dict(params))


def resolve_params(spec: str) -> FeFETParams:
    """A preset name (``weight``, ``sparsity``) or a path to a parameter / fit file."""
    from .. import presets

    if spec in presets.PRESETS:
        return presets.get(spec)
    if not str(spec).strip():
        raise DataError(f"{spec!r}: give a preset ({', '.join(sorted(presets.PRESETS))}) or a parameter / fit file")
    if not os.path.lexists(spec) and not any(c in str(spec) for c in "/\\.") :
        raise DataError(f"{spec}: neither a preset ({', '.join(sorted(presets.PRESETS))}) nor an existing parameter "
                        "or fit file")
    return load_params(spec)
