"""Native LUT files, ``fefet-synapse-lut/1``: ``lut.npz`` (arrays) + ``lut.json`` (sidecar) in a folder.

The sidecar holds the schema tag, g_min/g_max [S], read noise, the pulse kinds, figures of merit
(``levels`` {up, down}, ``masked_ratio``) and ``provenance`` (params hash, netlist, simulator and its
version, seed); the NPZ holds the tables. The sidecar follows ``fefet_spice/data/lut_schema.json``;
both files are validated on write and on read (:mod:`fefet_spice.lut.validate`) and written atomically.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io.jsonfile import read_json_object
from ..io.atomic import atomic_path, dumps, write_text
from .core import PulseKind, SynapseLUT, branch_levels
from ..io.npz_headers import check_elements, npz_headers
from .validate import check_arrays, check_sidecar, check_step_signs

SCHEMA = "fefet-synapse-lut/1"
ARRAYS = ("g_grid", "dg_mean", "dg_std", "quantile_levels", "dg_quantiles", "trajectories")
RESERVED = frozenset({"schema", "g_min", "g_max", "read_noise", "kinds", "npz_sha256"})
PROVENANCE_KEYS = ("params_sha256", "netlist", "simulator", "simulator_version", "seed")
MAX_LUT_ELEMENTS = 25_000_000
"""Most elements of one LUT array (200 MB as float64), checked from the ``.npy`` header before it is
decompressed; the committed LUTs have at most 8,320 (trajectories 2 x 64 x 65). The largest that
``characterize`` may write stays below it: 1e7 device-pulses give trajectories of at most 2.0e7
elements, ``--n-g 100000`` quantiles of 4.2e6."""
MAX_LUT_NPZ_BYTES = 64 * 1024 * 1024
"""Largest ``lut.npz`` file read [bytes]."""


def _npz_bytes(lut: SynapseLUT) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{name: np.asarray(getattr(lut, name), dtype=float) for name in ARRAYS})
    return buf.getvalue()


def complete_meta(lut: SynapseLUT) -> SynapseLUT:
    """The same LUT with the sidecar's required figures filled where ``meta`` lacks them:
    ``levels`` from the mean trajectories, ``masked_ratio`` null, ``provenance`` from ``meta``."""
    meta = dict(lut.meta)
    if "levels" not in meta:
        meta["levels"] = branch_levels(lut)
    meta.setdefault("masked_ratio", None)
    prov = dict(meta.get("provenance") or {})
    seed = meta.get("seed")
    defaults = {"params_sha256": None, "netlist": None, "simulator": str(meta.get("source", "unknown")),
                "simulator_version": None, "seed": seed if isinstance(seed, int) else None}
    for key in PROVENANCE_KEYS:
        prov.setdefault(key, defaults[key])
    meta["provenance"] = prov
    return replace(lut, meta=meta)


def sidecar(lut: SynapseLUT, blob: bytes) -> dict:
    """The ``lut.json`` content of ``lut`` whose NPZ bytes are ``blob``."""
    clash = RESERVED & set(lut.meta)
    if clash:
        raise DataError(f"LUT meta: key {sorted(clash)[0]!r} is reserved for the sidecar")
    return {"schema": SCHEMA, "g_min": float(lut.g_min), "g_max": float(lut.g_max),
            "read_noise": float(lut.read_noise),
            "kinds": [{"polarity": int(k.polarity), "amplitude": float(k.amplitude), "width": float(k.width)}
                      for k in lut.kinds],
            "npz_sha256": hashlib.sha256(blob).hexdigest(), **lut.meta}


def save_lut(folder: str | os.PathLike, lut: SynapseLUT) -> Path:
    """Validate and write ``folder/lut.npz`` and ``folder/lut.json``; returns the folder.

    Missing sidecar figures are filled by :func:`complete_meta`.
    """
    folder = Path(folder)
    lut = complete_meta(lut)
    blob = _npz_bytes(lut)
    side = sidecar(lut, blob)
    check_sidecar(json.loads(dumps(side)), f"{folder / 'lut.json'} (about to be written)")
    check_arrays({n: np.asarray(getattr(lut, n), dtype=float) for n in ARRAYS}, len(lut.kinds),
                 f"{folder / 'lut.npz'} (about to be written)", lut.g_min, lut.g_max)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "lut.npz") as tmp:
        tmp.write_bytes(blob)
    write_text(folder / "lut.json", dumps(side))
    return folder


def _read_sidecar(side_path: Path) -> dict:
    side = read_json_object(side_path, missing=f" (not a {SCHEMA} folder)", bad="; truncated?")
    if side.get("schema") != SCHEMA:
        raise DataError(f"{side_path}: schema: is {side.get('schema')!r}; this fefet_spice reads {SCHEMA!r}")
    check_sidecar(side, str(side_path))
    return side


def load_lut(folder: str | os.PathLike) -> SynapseLUT:
    """Read and validate a native LUT folder (or its ``lut.json``); errors name the file and field."""
    folder = Path(folder)
    if folder.name == "lut.json":
        folder = folder.parent
    side_path, npz_path = folder / "lut.json", folder / "lut.npz"
    side = _read_sidecar(side_path)
    from ..io.inputs import check_input_file

    check_input_file(npz_path, MAX_LUT_NPZ_BYTES)  # a FIFO, device or huge file is named, never read
    try:
        blob = npz_path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{npz_path}: no such file") from None
    if hashlib.sha256(blob).hexdigest() != side["npz_sha256"]:
        raise DataError(f"{npz_path}: contents do not match npz_sha256 in {side_path.name} (corrupted or truncated?)")
    # shapes from the .npy headers first: a small compressed file can decompress to gigabytes
    check_elements(npz_headers(blob, str(npz_path)), str(npz_path), MAX_LUT_ELEMENTS, ARRAYS)
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {name: z[name] for name in ARRAYS if name in z.files}
    except Exception as exc:  # zipfile/ValueError/OSError: any unreadable NPZ
        raise DataError(f"{npz_path}: unreadable LUT arrays ({type(exc).__name__}: {exc})") from None
    check_arrays(arrays, len(side["kinds"]), str(npz_path), float(side["g_min"]), float(side["g_max"]))
    check_step_signs(arrays["dg_mean"], [int(k["polarity"]) for k in side["kinds"]], str(npz_path),
                     float(side["g_max"]) - float(side["g_min"]))
    kinds = tuple(PulseKind(int(k["polarity"]), float(k["amplitude"]), float(k["width"])) for k in side["kinds"])
    meta = {k: v for k, v in side.items() if k not in RESERVED}
    return SynapseLUT(g_min=float(side["g_min"]), g_max=float(side["g_max"]), kinds=kinds,
                      read_noise=float(side["read_noise"]), meta=meta, **arrays)
