"""Temporary folders that never outlive their process for long.

Each name carries the creating process's id (``<prefix><pid>-XXXX``). A process killed with SIGKILL (or a
pool worker killed by its driver) cannot remove its folder; the next fefet-spice run that makes one of
the same kind removes every such folder of a process that no longer exists (:func:`sweep`).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def sweep(prefix: str, folder: str | os.PathLike | None = None) -> list[Path]:
    """Remove this user's ``prefix<pid>-*`` folders (in ``folder``, default the temp folder) whose process is gone."""
    base = Path(folder or tempfile.gettempdir())
    removed = []
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for path in entries:
        m = pattern.match(path.name)
        if not m:
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        if path.is_symlink() or not path.is_dir() or st.st_uid != os.getuid() or _alive(int(m.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def make(prefix: str, folder: str | os.PathLike | None = None) -> Path:
    """A new private temporary folder ``prefix<pid>-XXXX`` (stale ones of dead processes swept first)."""
    sweep(prefix, folder)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=folder))


class TemporaryFolder:
    """``with TemporaryFolder(prefix) as path``: removed on every exit path this process survives."""

    def __init__(self, prefix: str, folder: str | os.PathLike | None = None):
        self.path = make(prefix, folder)

    def __enter__(self) -> str:
        return str(self.path)

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
