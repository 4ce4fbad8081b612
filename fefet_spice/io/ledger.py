"""Named output files (``--json``, ``--plot``, ``fit -o`` and the figures beside it): replaced only if ours.

A command records every named output file it writes, with its SHA-256, in ``.fefet-spice-files.json``
(:data:`LEDGER`) in that file's folder. A later command may replace an existing file only while the
ledger lists it with the same hash, or while the marker of a fefet-spice output folder above it lists it
(:mod:`.manifest`); a file fefet-spice did not write, or one changed since, is never replaced, even with
``--force``. The check runs before any work (:func:`refuse_foreign`); the ledger is written after each file.
"""
from __future__ import annotations

import json
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LEDGER = ".fefet-spice-files.json"
SCHEMA = "fefet-spice-files/1"
MAX_LEDGER_BYTES = 4 << 20
"""A larger ledger is not read (none of its files count as ours) [bytes]."""
_CLAIMED: set[str] = set()


def _abs(path) -> Path:
    return Path(os.path.abspath(path))


def _read(folder: Path) -> dict[str, str]:
    """The ledger's entries; {} when it is missing, not a regular file (a FIFO or a link is never opened),
    larger than :data:`MAX_LEDGER_BYTES` or not ours."""
    p = folder / LEDGER
    try:
        if not stat.S_ISREG(os.lstat(p).st_mode):
            return {}
        with open(p, "rb") as f:
            raw = f.read(MAX_LEDGER_BYTES + 1)
        if len(raw) > MAX_LEDGER_BYTES:
            return {}
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("schema") == SCHEMA else None
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(files, dict) else {}


def is_ours(path) -> bool:
    """True if fefet-spice wrote ``path`` and nobody changed it since (ledger, or an output folder's manifest)."""
    from .manifest import manifest_of, sha256_file

    path = _abs(path)
    digest = sha256_file(path)
    if digest is None:
        return False
    if _read(path.parent).get(path.name) == digest:
        return True
    for up in list(path.parents)[:4]:  # the innermost output folder with a manifest decides
        files = manifest_of(up)
        if files is not None:
            return files.get(str(path.relative_to(up))) == digest
    return False


def refuse_foreign(path, option: str) -> None:
    """Before any work: refuse to replace an existing ``path`` fefet-spice did not write; claim it."""
    from .outdir import OutputError

    if os.path.lexists(path) and not is_ours(path):
        raise OutputError(f"{option} {path}: the file exists and was not written by fefet-spice (or was changed "
                          "since); move it away or choose another name (even --force never replaces it)")
    _CLAIMED.add(str(_abs(path)))


def note_written(path) -> None:
    """After a claimed file was written: record its hash in its folder's ledger (best effort)."""
    from .atomic import dumps
    from .manifest import sha256_file

    path = _abs(path)
    if str(path) not in _CLAIMED:
        return
    digest = sha256_file(path)
    if digest is None:
        return
    target = path.parent / LEDGER
    tmp = path.parent / f".{LEDGER}.{os.getpid()}.tmp"
    try:
        with _folder_lock(path.parent):  # two commands writing into one folder keep each other's entries
            if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
                return  # never replace a FIFO, link or folder of that name
            files = {k: v for k, v in _read(path.parent).items() if (path.parent / k).is_file()}
            files[path.name] = digest
            tmp.write_text(dumps({"schema": SCHEMA, "note": "files fefet-spice wrote here (name -> SHA-256); it "
                                  "replaces only these, and only while unchanged",
                                  "files": dict(sorted(files.items()))}), encoding="utf-8")
            os.replace(tmp, target)
    except OSError:
        pass
    finally:
        if os.path.lexists(tmp):
            try:
                tmp.unlink()
            except OSError:
                pass


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive flock on the folder itself (no extra file; a no-op where flock is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def release_all() -> None:
    """Forget the claims of this process (the command has ended)."""
    _CLAIMED.clear()
