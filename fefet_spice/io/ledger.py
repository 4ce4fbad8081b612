"""Named output files (``--json``, ``--plot``, ``fit -o`` and the figures beside it): replaced only if ours.

A command records every named output file it writes, with its SHA-256 and the command's name, in
``.fefet-spice-files.json`` (:data:`LEDGER`) in that file's folder. A later command may replace an existing
file only while the ledger lists it with the same hash and the same command, or while the marker of a
fefet-spice output folder above it lists it and that folder is the same command's or a ``run``'s (whose
report prints the commands that reproduce its files) (:mod:`.manifest`). A file fefet-spice did not write,
one changed since, or another command's product (``simulate --json`` over an export's ``lut.json``) is never
replaced, even with ``--force``. The check runs before any work (:func:`refuse_foreign`); the ledger is
written after each file.
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
_CLAIMED: dict[str, str | None] = {}  # claimed path -> the command writing it


def _abs(path) -> Path:
    return Path(os.path.abspath(path))


def _read_all(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The ledger's entries (hashes, commands); empty when it is missing, not a regular file (a FIFO or a
    link is never opened), larger than :data:`MAX_LEDGER_BYTES` or not ours."""
    p = folder / LEDGER
    try:
        if not stat.S_ISREG(os.lstat(p).st_mode):
            return {}, {}
        with open(p, "rb") as f:
            raw = f.read(MAX_LEDGER_BYTES + 1)
        if len(raw) > MAX_LEDGER_BYTES:
            return {}, {}
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}, {}
    ok = isinstance(data, dict) and data.get("schema") == SCHEMA
    out = []
    for key in ("files", "commands"):
        m = data.get(key) if ok else None
        out.append({k: v for k, v in m.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(m, dict) else {})
    return out[0], out[1]


def is_ours(path, command: str | None = None) -> bool:
    """True if fefet-spice wrote ``path``, nobody changed it since, and (given ``command``) it is that
    command's file or a ``run``'s (ledger, or an output folder's manifest; see the module docstring)."""
    from .manifest import manifest_of, read_marker, sha256_file

    path = _abs(path)
    digest = sha256_file(path)
    if digest is None:
        return False
    files, commands = _read_all(path.parent)
    if files.get(path.name) == digest:
        return command is None or commands.get(path.name) in (None, command)
    for up in list(path.parents)[:4]:  # the innermost output folder with a manifest decides
        listed = manifest_of(up)
        if listed is not None:
            owner = (read_marker(up) or {}).get("command")
            return listed.get(str(path.relative_to(up))) == digest and (command is None or owner in (command, "run"))
    return False


def refuse_foreign(path, option: str, command: str | None = None) -> None:
    """Before any work: refuse to replace an existing ``path`` that is not ``command``'s own; claim it."""
    from .outdir import OutputError

    if os.path.lexists(path) and not is_ours(path, command):
        why = ("was written by another fefet-spice command" if is_ours(path) else
               "was not written by fefet-spice (or was changed since)")
        raise OutputError(f"{option} {path}: the file exists and {why}; move it away or choose another name "
                          "(even --force never replaces it)")
    _CLAIMED[str(_abs(path))] = command


def note_written(path) -> None:
    """After a claimed file was written: record its hash in its folder's ledger (best effort)."""
    from .atomic import dumps
    from .manifest import sha256_file

    path = _abs(path)
    if str(path) not in _CLAIMED:
        return
    command = _CLAIMED[str(path)]
    digest = sha256_file(path)
    if digest is None:
        return
    target = path.parent / LEDGER
    tmp = path.parent / f".{LEDGER}.{os.getpid()}.tmp"
    try:
        with _folder_lock(path.parent):  # two commands writing into one folder keep each other's entries
            if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
                return  # never replace a FIFO, link or folder of that name
            old_files, old_commands = _read_all(path.parent)
            files = {k: v for k, v in old_files.items() if (path.parent / k).is_file()}
            commands = {k: v for k, v in old_commands.items() if k in files}
            files[path.name] = digest
            if command:
                commands[path.name] = command
            tmp.write_text(dumps({"schema": SCHEMA, "note": "files fefet-spice wrote here (name -> SHA-256, and the "
                                  "command that wrote each); it replaces only these, only while unchanged and only "
                                  "by the same command", "files": dict(sorted(files.items())),
                                  "commands": dict(sorted(commands.items()))}), encoding="utf-8")
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
