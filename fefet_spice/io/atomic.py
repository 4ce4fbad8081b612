"""Atomic file writes: write to a temporary file in the same folder, then rename.

Nothing already written is lost or half-written if a run fails midway.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask is process-wide, not thread-safe


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``, else delete it."""
    from ..errors import DataError

    from . import ledger
    from .manifest import check_write, note_written

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder, cannot write a file there")
    check_write(path)  # a file of a claimed output folder that fefet-spice did not write is never replaced
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    except OSError as exc:
        raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file normal permissions
            os.replace(tmp_path, path)
        except OSError as exc:
            raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from None
        note_written(path)
        ledger.note_written(path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8, '\\n' line endings)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialize {type(obj).__name__} to JSON")


def non_finite_field(data: Any, where: str = "") -> str | None:
    """The key path (``a.b[3]``) of the first NaN or inf in ``data``, or None."""
    if isinstance(data, dict):
        for k in sorted(data, key=str):
            hit = non_finite_field(data[k], f"{where}.{k}" if where else str(k))
            if hit:
                return hit
        return None
    if isinstance(data, (list, tuple)):
        for i, v in enumerate(data):
            hit = non_finite_field(v, f"{where}[{i}]")
            if hit:
                return hit
        return None
    if isinstance(data, np.ndarray):
        if data.dtype.kind in "fc":
            bad = np.flatnonzero(~np.isfinite(data.ravel()))
            if len(bad):
                idx = np.unravel_index(int(bad[0]), data.shape)
                return f"{where}[{']['.join(str(int(i)) for i in idx)}]"
        return None
    if isinstance(data, (float, np.floating)) and not np.isfinite(data):
        return where or "value"
    return None


def dumps(data: Any, what: str = "the result") -> str:
    """Deterministic JSON text (sorted keys, numpy arrays as lists, NaN rejected naming the field)."""
    try:
        return json.dumps(data, indent=1, sort_keys=True, default=_default, allow_nan=False) + "\n"
    except ValueError:
        from ..errors import DataError

        field = non_finite_field(data)
        if field is None:
            raise
        raise DataError(f"{what}: field {field} is not a finite number (NaN or inf: an input out of range "
                        "or a diverged computation); nothing was written") from None


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Atomically write ``data`` as deterministic JSON (NaN/inf refused before anything is written)."""
    return write_text(path, dumps(data, str(path)))


FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def check_figure_path(path: str | os.PathLike, option: str = "--plot") -> Path:
    """Reject a figure path whose suffix is not png, pdf or svg (before any work starts)."""
    from ..errors import ParamError

    path = Path(path)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise ParamError(f"{option} {path}: the file name must end in .png, .pdf or .svg "
                         f"(got {path.suffix or 'no suffix'!r})")
    return path


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Atomically save a matplotlib figure (format from the suffix)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png", bbox_inches="tight")
    return path
