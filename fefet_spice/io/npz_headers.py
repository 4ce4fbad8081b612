"""Shapes and dtypes of the members of an ``.npz`` read from their ``.npy`` headers, before any array is
decompressed or loaded.

A 1 MB compressed ``.npz`` can hold arrays that decompress to gigabytes (a zip bomb); every reader of an
``.npz`` (LUT folders, image data sets) first calls :func:`npz_headers` and bounds each member's element
count from its header, so nothing is allocated for an array that would be refused anyway.
"""
from __future__ import annotations

import io
import math
import os
import zipfile

import numpy as np

from ..errors import DataError, LimitError

MAX_NPZ_MEMBERS = 64
"""Most members an ``.npz`` may have (the LUT has 6, an image data set 4 to 6)."""


def _read_header(member) -> tuple[tuple, np.dtype]:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version in ((2, 0), (3, 0)):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:  # pragma: no cover - read_magic accepts only the versions above today
        raise ValueError(f"unknown .npy format version {version}")
    return tuple(int(n) for n in shape), dtype


def npz_headers(source: str | os.PathLike | bytes, where: str) -> dict[str, tuple[tuple, np.dtype]]:
    """``{member name (without .npy): (shape, dtype)}`` of the ``.npz`` at ``source`` (a path or its bytes),
    from the headers only. :class:`DataError` naming ``where`` if it is not a readable ``.npz``, a member
    is not an ``.npy`` array, holds Python objects, or there are more than :data:`MAX_NPZ_MEMBERS` members."""
    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    out = {}
    try:
        with zipfile.ZipFile(handle) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_NPZ_MEMBERS:
                raise LimitError(f"{where}: {len(infos)} members; an .npz fefet-spice reads has at most "
                                 f"{MAX_NPZ_MEMBERS}")
            for info in infos:
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with zf.open(info) as member:
                    try:
                        shape, dtype = _read_header(member)
                    except ValueError as exc:
                        raise DataError(f"{where}: {name}: not a .npy array ({exc})") from None
                if dtype.hasobject:
                    raise DataError(f"{where}: {name}: holds Python objects (dtype {dtype}); numbers only")
                out[name] = (shape, dtype)
    except FileNotFoundError:
        raise DataError(f"{where}: no such file") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise DataError(f"{where}: not a readable .npz ({type(exc).__name__}: {exc})") from None
    return out


def check_elements(headers: dict, where: str, max_elements: int, names=None) -> None:
    """:class:`LimitError` naming ``where`` and the member if a member (of ``names``, default all) has more
    than ``max_elements`` elements according to its header."""
    for name in names if names is not None else headers:
        if name not in headers:
            continue
        shape, _ = headers[name]
        n = math.prod(shape)
        if n > max_elements:
            raise LimitError(f"{where}: {name}: shape {shape} has {n:,} elements; at most {max_elements:,} "
                             "are read (corrupted or hostile file?)")
