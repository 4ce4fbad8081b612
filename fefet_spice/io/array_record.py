"""Read and write a training run's array record (``fefet-array-record/1``, :mod:`fefet_spice.array.record`) as one
``.npz``, written atomically."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from ..array.record import TrainRecord
from ..errors import DataError
from .atomic import atomic_path


def save(path: str | os.PathLike, arrays: dict) -> Path:
    """Write packed record arrays (:func:`fefet_spice.array.record.pack`) to ``path`` (compressed npz)."""
    TrainRecord(arrays)  # validate before writing
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return Path(path)


def load(path: str | os.PathLike) -> TrainRecord:
    """Read a record written by :func:`save`; a clear :class:`DataError` naming the file otherwise."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz ({exc})") from None
    try:
        return TrainRecord(arrays)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
