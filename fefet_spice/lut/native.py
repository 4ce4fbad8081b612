"""Native LUT files, ``fefet-synapse-lut/1``: ``lut.npz`` (arrays) + ``lut.json`` (sidecar) in a folder.

The sidecar holds the schema tag, g_min/g_max [S], read noise, the pulse kinds, figures of merit
(``levels``, ``masked_ratio`` when characterized) and provenance; the NPZ holds the tables.
Both files are written atomically.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io.atomic import atomic_path, dumps, write_text
from .core import PulseKind, SynapseLUT

SCHEMA = "fefet-synapse-lut/1"
ARRAYS = ("g_grid", "dg_mean", "dg_std", "quantile_levels", "dg_quantiles", "trajectories")


def _npz_bytes(lut: SynapseLUT) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{name: getattr(lut, name) for name in ARRAYS})
    return buf.getvalue()


def save_lut(folder: str | os.PathLike, lut: SynapseLUT) -> Path:
    """Write ``folder/lut.npz`` and ``folder/lut.json``; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blob = _npz_bytes(lut)
    with atomic_path(folder / "lut.npz") as tmp:
        tmp.write_bytes(blob)
    side = {"schema": SCHEMA, "g_min": lut.g_min, "g_max": lut.g_max, "read_noise": lut.read_noise,
            "kinds": [{"polarity": k.polarity, "amplitude": k.amplitude, "width": k.width} for k in lut.kinds],
            "npz_sha256": hashlib.sha256(blob).hexdigest(), **lut.meta}
    write_text(folder / "lut.json", dumps(side))
    return folder


def load_lut(folder: str | os.PathLike) -> SynapseLUT:
    """Read a native LUT folder (or its ``lut.json``); errors name the file and what is wrong."""
    folder = Path(folder)
    if folder.name == "lut.json":
        folder = folder.parent
    side_path, npz_path = folder / "lut.json", folder / "lut.npz"
    try:
        side = json.loads(side_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{side_path}: no such file (not a {SCHEMA} folder)") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{side_path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if side.get("schema") != SCHEMA:
        raise DataError(f"{side_path}: schema is {side.get('schema')!r}; this fefet_spice reads {SCHEMA!r}")
    try:
        blob = npz_path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{npz_path}: no such file") from None
    if side.get("npz_sha256") and hashlib.sha256(blob).hexdigest() != side["npz_sha256"]:
        raise DataError(f"{npz_path}: contents do not match the checksum in {side_path.name} (corrupted?)")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {name: z[name] for name in ARRAYS}
    except Exception as exc:  # zipfile/ValueError/KeyError: any unreadable NPZ
        raise DataError(f"{npz_path}: unreadable LUT arrays ({exc})") from None
    kinds = tuple(PulseKind(int(k["polarity"]), float(k["amplitude"]), float(k["width"])) for k in side["kinds"])
    reserved = {"schema", "g_min", "g_max", "read_noise", "kinds", "npz_sha256"}
    meta = {k: v for k, v in side.items() if k not in reserved}
    return SynapseLUT(g_min=float(side["g_min"]), g_max=float(side["g_max"]), kinds=kinds,
                      read_noise=float(side["read_noise"]), meta=meta, **arrays)
