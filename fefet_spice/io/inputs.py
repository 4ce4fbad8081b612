"""Input paths checked before they are opened: regular files only, bounded in size.

A FIFO would block a reader forever and ``/dev/zero`` (or a symbolic link to it) would fill memory;
both are refused with a sentence that says what the path is, instead of "no such file".
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import DataError, LimitError

MAX_INPUT_BYTES = 256 * 1024 * 1024
"""Largest input file read whole into memory [bytes] (JSON, CSV, parameter files)."""


def kind_of(path: str | os.PathLike) -> str:
    """What ``path`` is, for messages: 'file', 'folder', 'FIFO', 'device', 'socket', 'broken link', 'missing'."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "broken link" if path.is_symlink() else "missing"
    except OSError:
        return "unreadable"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def not_usable(path: str | os.PathLike) -> str:
    """Why ``path`` cannot be read as a data file (for a path that is not a regular file or folder)."""
    kind = kind_of(path)
    return {"missing": "no such file or folder",
            "broken link": "a symbolic link to a missing file",
            "unreadable": "cannot be accessed (permission?)",
            "folder": "is a folder, expected a file"}.get(kind, f"is a {kind}, not a regular file")


def check_input_file(path: str | os.PathLike, max_bytes: int = MAX_INPUT_BYTES, error: type = DataError) -> Path:
    """``path`` if it is a regular file of at most ``max_bytes``; else ``error`` naming the file."""
    path = Path(path)
    kind = kind_of(path)
    if kind != "file":
        raise error(f"{path}: {'no such file' if kind == 'missing' else not_usable(path)}")
    size = path.stat().st_size
    if size > max_bytes:
        raise (LimitError if error is DataError else error)(
            f"{path}: {size / 2**20:.0f} MiB is larger than the {max_bytes / 2**20:.0f} MiB fefet-spice reads")
    return path
