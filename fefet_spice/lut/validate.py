"""Validation of native ``fefet-synapse-lut/1`` folders: sidecar against the shipped JSON schema, arrays
against their shapes and invariants (uniform grid, monotone quantiles, finite values).

The schema lives in ``fefet_spice/data/lut_schema.json``; :func:`check_schema` interprets the small
JSON-schema subset it uses (type, const, enum, required, properties, items, minItems, minimum,
exclusiveMinimum, pattern), so no third-party validator is needed. Every error names the file and the
field.
"""
from __future__ import annotations

import math

import json
import re
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import DataError

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The shipped JSON schema of the ``lut.json`` sidecar."""
    text = resources.files("fefet_spice").joinpath("data/lut_schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _is_type(value, name: str) -> bool:
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def check_schema(value, schema: dict, where: str, path: str = "") -> None:
    """Raise :class:`DataError` ``"<where>: <path>: ..."`` if ``value`` violates ``schema``."""
    label = f"{where}: {path or '(top level)'}"
    if "const" in schema and value != schema["const"]:
        raise DataError(f"{label}: must be {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise DataError(f"{label}: must be one of {schema['enum']}, got {value!r}")
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_is_type(value, t) for t in types):
            raise DataError(f"{label}: expected {' or '.join(types)} (finite), got {value!r}")
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            raise DataError(f"{label}: must be >= {schema['minimum']}, got {value!r}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise DataError(f"{label}: must be > {schema['exclusiveMinimum']}, got {value!r}")
    if isinstance(value, str) and "pattern" in schema and not re.match(schema["pattern"], value):
        raise DataError(f"{label}: does not match {schema['pattern']}")
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                raise DataError(f"{where}: {path + '.' if path else ''}{key}: required field is missing")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check_schema(value[key], sub, where, f"{path}.{key}" if path else key)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise DataError(f"{label}: needs at least {schema['minItems']} entries, has {len(value)}")
        if "items" in schema:
            for i, item in enumerate(value):
                check_schema(item, schema["items"], where, f"{path}[{i}]")


def check_sidecar(side, where: str) -> None:
    """Validate a parsed ``lut.json`` against the shipped schema."""
    check_schema(side, load_schema(), where)
    if side["g_max"] <= side["g_min"]:
        raise DataError(f"{where}: g_max: must exceed g_min ({side['g_max']!r} <= {side['g_min']!r})")
    op = side.get("operating_point", {})
    if not isinstance(op, dict):
        raise DataError(f"{where}: operating_point: expected an object")
    for key, value in op.items():  # exported into NeuroSim C++ and other tools: numbers only
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DataError(f"{where}: operating_point.{key}: expected a finite number, got {value!r}")


def _shape_error(where, name, arr, expected):
    return DataError(f"{where}: {name}: shape {tuple(arr.shape)}, expected {expected} (truncated or corrupted?)")


def check_arrays(arrays: dict, n_kinds: int, where: str, g_min: float | None = None,
                 g_max: float | None = None) -> None:
    """Shapes, dtypes and invariants of the LUT tables (``where`` names the NPZ file)."""
    spec = load_schema()["arrays"]
    for name in (k for k in spec if k != "description"):
        if name not in arrays:
            raise DataError(f"{where}: {name}: array is missing")
        arr = arrays[name]
        if not np.issubdtype(arr.dtype, np.floating):
            raise DataError(f"{where}: {name}: expected floating-point values, got dtype {arr.dtype}")
        if arr.ndim != len(spec[name]):
            raise _shape_error(where, name, arr, spec[name])
    grid, qs = arrays["g_grid"], arrays["quantile_levels"]
    n_g, n_q = grid.size, qs.size
    for name, shape in (("dg_mean", (n_kinds, n_g)), ("dg_std", (n_kinds, n_g)),
                        ("dg_quantiles", (n_kinds, n_q, n_g))):
        if arrays[name].shape != shape:
            raise _shape_error(where, name, arrays[name], shape)
    if arrays["trajectories"].shape[0] != n_kinds:
        raise _shape_error(where, "trajectories", arrays["trajectories"], f"({n_kinds}, n_t, n_p)")
    for name in ("g_grid", "dg_mean", "dg_std", "quantile_levels", "dg_quantiles"):
        if not np.all(np.isfinite(arrays[name])):
            raise DataError(f"{where}: {name}: contains NaN or infinite values")
    if n_g < 2:
        raise DataError(f"{where}: g_grid: needs at least 2 points, has {n_g}")
    step = np.diff(grid)
    if not (np.all(step > 0) and np.allclose(step, step[0], rtol=1e-9, atol=0.0)):
        raise DataError(f"{where}: g_grid: not a uniform increasing grid")
    if g_min is not None and not (np.isclose(grid[0], g_min, rtol=1e-9) and np.isclose(grid[-1], g_max, rtol=1e-9)):
        raise DataError(f"{where}: g_grid: must span g_min..g_max of the sidecar")
    if np.any(arrays["dg_std"] < 0):
        raise DataError(f"{where}: dg_std: negative standard deviation")
    if n_q and (np.any(np.diff(qs) <= 0) or qs[0] < 0 or qs[-1] > 1):
        raise DataError(f"{where}: quantile_levels: must increase strictly within [0, 1]")
    if n_q > 1 and np.any(np.diff(arrays["dg_quantiles"], axis=1) < -1e-12 * max(1.0, float(np.ptp(grid)))):
        raise DataError(f"{where}: dg_quantiles: not monotone in the quantile level")
    traj = arrays["trajectories"]
    finite = np.isfinite(traj)
    # NaN is allowed only as trailing padding of a trajectory
    if np.any(np.isinf(traj)) or np.any(~finite[..., :-1] & finite[..., 1:]):
        raise DataError(f"{where}: trajectories: non-finite values inside a trajectory (only trailing NaN padding allowed)")


MAX_STEP_FRACTION = 1.0
"""Largest mean |ΔG| of one pulse, as a fraction of the range g_max - g_min (one pulse cannot move a cell
further than its whole range; a larger step is a corrupted or hand-made table)."""
MIN_STEP_FRACTION = 1e-9
"""Smallest largest-mean-step a trainable pulse kind needs, as a fraction of the range (all-zero steps
leave every weight where it is)."""


def check_trainable(lut, where: str = "the LUT") -> None:
    """Refuse a LUT that would make training meaningless (DataError naming the field): a potentiating and
    a depressing kind, finite conductances, steps finite and not absurd (|ΔG| beyond the range) nor zero."""
    g_min, g_max = float(lut.g_min), float(lut.g_max)
    if not (math.isfinite(g_min) and math.isfinite(g_max) and g_max > g_min >= 0):
        raise DataError(f"{where}: g_min/g_max: need finite 0 <= g_min < g_max, got {g_min!r}, {g_max!r}")
    span = g_max - g_min
    for name in ("dg_mean", "dg_std", "g_grid"):
        if not np.all(np.isfinite(np.asarray(getattr(lut, name), dtype=float))):
            raise DataError(f"{where}: {name}: contains NaN or infinite values")
    rn = float(getattr(lut, "read_noise", 0.0))
    if not (math.isfinite(rn) and 0 <= rn <= span):
        raise DataError(f"{where}: read_noise: {rn!r} S is not within 0..(g_max - g_min) = {span:.3g} S")
    for pol, word in ((+1, "potentiating"), (-1, "depressing")):
        try:
            k = lut.kind_index(pol)
        except KeyError:
            raise DataError(f"{where}: kinds: no {word} pulse kind (polarity {pol:+d})") from None
        mean = np.asarray(lut.dg_mean[k], dtype=float)
        std = np.asarray(lut.dg_std[k], dtype=float)
        big = float(np.max(np.abs(mean)))
        if big > MAX_STEP_FRACTION * span:
            raise DataError(f"{where}: dg_mean[{k}] ({word}): a step of {big:.3g} S exceeds the whole range "
                            f"g_max - g_min = {span:.3g} S (corrupted table?)")
        if float(np.max(std)) > MAX_STEP_FRACTION * span:
            raise DataError(f"{where}: dg_std[{k}] ({word}): a spread of {float(np.max(std)):.3g} S exceeds the "
                            f"whole range g_max - g_min = {span:.3g} S (corrupted table?)")
        if float(np.max(pol * mean)) <= MIN_STEP_FRACTION * span:
            raise DataError(f"{where}: dg_mean[{k}] ({word}): no step moves the conductance in its direction "
                            "(zero or wrong-signed table): nothing can be trained")


def check_step_signs(dg_mean: np.ndarray, polarities, where: str, span: float) -> None:
    """Refuse a table whose pulses do not move G their way on average: a kind whose mean step over the grid
    has the wrong sign (an up pulse lowering G), or a polarity none of whose kinds moves G at all."""
    tol = MIN_STEP_FRACTION * span
    best = {}
    for k, pol in enumerate(polarities):
        with np.errstate(over="ignore"):  # steps of 1e308: a mean of +-inf still has its sign
            mean = float(np.mean(pol * np.asarray(dg_mean[k], dtype=float)))
        word = "potentiating" if pol > 0 else "depressing"
        if mean < -tol:
            raise DataError(f"{where}: dg_mean[{k}] ({word}): the mean step {pol * mean:.3g} S moves G the wrong "
                            f"way (an {'up' if pol > 0 else 'down'} pulse must {'raise' if pol > 0 else 'lower'} "
                            "G on average; wrong-signed table?)")
        best[pol] = max(best.get(pol, -math.inf), mean)
    for pol, mean in best.items():
        if mean <= tol:
            raise DataError(f"{where}: dg_mean: no {'potentiating' if pol > 0 else 'depressing'} kind moves G on "
                            "average (all-zero steps): the table is meaningless")
