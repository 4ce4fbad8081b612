"""Which files of an output folder fefet-spice wrote: the marker's manifest (relative path -> SHA-256).

Every file a command writes into a claimed output folder (through :mod:`fefet_spice.io.atomic`) is
recorded, with its hash, in the folder's marker when the command ends. A later run — with or without
``--force`` — may replace a file only if the manifest lists it with the same hash; a file the manifest
does not list, or that changed since, is foreign and is never replaced or deleted. Markers written before
manifests existed (the committed folders) keep their old meaning: every file in a folder owned by the
same command is its own. A name clash with a foreign file is refused with one sentence before any work
(:func:`check_clashes`); :func:`check_write` is the last line of defence at write time.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

CACHE_DIR = ".cache"
CACHE_FILES = ("run.json", "job_*.npz")  # a job cache's own files (checked against its fingerprint)


def sha256_file(path: Path) -> str | None:
    """SHA-256 of a regular file's bytes (None: not a regular file or unreadable)."""
    try:
        if not path.is_file() or path.is_symlink():
            return None
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return None


def read_marker(folder: Path) -> dict | None:
    from .outdir import MARKER, SCHEMA

    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == SCHEMA else None


def manifest_of(folder: Path) -> dict[str, str] | None:
    """The marker's ``files`` (relative path -> hash), or None when the marker has none (or no marker)."""
    data = read_marker(folder)
    files = data.get("files") if data else None
    if not isinstance(files, dict):
        return None
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def present_files(folder: Path, shallow: bool = False) -> set[str]:
    """Relative paths of the files and links below ``folder`` (links never followed; marker and lock left out)."""
    from .ledger import LEDGER
    from .outdir import LOCK, MARKER

    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return set()
    out: set[str] = set()
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        out.update(str(base / n) for n in files if n != LEDGER)  # a named-output ledger, at any depth
        out.update(str(base / d) for d in dirs if (Path(root) / d).is_symlink())
        if shallow:
            break
    return {str(Path(p)) for p in out} - {MARKER, LOCK}


def _is_cache_file(rel: str) -> bool:
    parts = Path(rel).parts
    return len(parts) == 2 and parts[0] == CACHE_DIR and any(fnmatch.fnmatch(parts[1], p) for p in CACHE_FILES)


def foreign_files(folder: Path, command: str, shallow: bool = False) -> set[str]:
    """Files in ``folder`` that ``command`` may not replace: not listed in the manifest, or changed since."""
    folder = Path(folder)
    present = present_files(folder, shallow)
    data = read_marker(folder)
    manifest = manifest_of(folder)
    if manifest is None:
        if data is not None and data.get("command") == command:  # a marker from before manifests: all ours
            return set()
        manifest = {}
    return {rel for rel in present
            if not _is_cache_file(rel) and not (rel in manifest and sha256_file(folder / rel) == manifest[rel])}


def check_clashes(folder: Path, foreign: set[str], patterns: tuple[str, ...], option: str = "-o") -> None:
    """Refuse (before any work) when a file the command writes would replace a foreign file."""
    from .outdir import OutputError

    clash = sorted(rel for rel in foreign if any(fnmatch.fnmatch(rel, p) for p in patterns)
                   or ((Path(folder) / rel).is_symlink()  # a linked folder the command would write into
                       and any(fnmatch.fnmatch(rel, p.split("/", 1)[0]) for p in patterns if "/" in p)))
    if clash:
        raise OutputError(f"{option} {folder}: {clash[0]} was not written by fefet-spice (or was changed since) and "
                          "would be replaced; move it away or choose another folder (even --force never replaces "
                          "a file fefet-spice did not write)")


@dataclass
class Guard:
    folder: Path
    foreign: frozenset[str]
    written: set[str] = field(default_factory=set)


_GUARDS: dict[Path, Guard] = {}


def _key(path: Path) -> Path:
    path = Path(path)
    return Path(os.path.abspath(path.parent)).resolve() / path.name if path.name else Path(path).resolve()


def guard(folder: Path, foreign: set[str]) -> Guard:
    """Protect ``foreign`` files of ``folder`` from this process's writes; record what it writes there."""
    g = Guard(_key(folder), frozenset(foreign))
    _GUARDS[g.folder] = g
    return g


def release(folder: Path) -> Guard | None:
    return _GUARDS.pop(_key(folder), None)


def _owner(path: Path) -> tuple[Guard, str] | None:
    target = _key(path)
    for g in sorted(_GUARDS.values(), key=lambda g: -len(g.folder.parts)):  # the innermost guard decides
        if g.folder in target.parents:
            return g, str(target.relative_to(g.folder))
    return None


def _link_inside_guard(path: Path) -> Path | None:
    """A linked folder between a guarded output folder and ``path`` (writing through it would land
    outside the folder, e.g. in a user's folder or the checkout), or None."""
    ancestors = list(Path(os.path.abspath(path)).parents)  # nearest first
    for i, folder in enumerate(ancestors):
        if _key(folder) in _GUARDS:
            return next((a for a in ancestors[:i] if a.is_symlink()), None)
    return None


def check_write(path: Path) -> None:
    """Refuse to replace a foreign file of a guarded folder, or to write through a link inside one
    (OutputError naming it)."""
    from .outdir import OutputError

    link = _link_inside_guard(path)
    if link is not None:
        raise OutputError(f"{path}: {link} is a link inside the output folder; fefet-spice does not write through "
                          "it (its files are not the folder's): move it away or choose another folder")
    hit = _owner(path)
    if hit and hit[1] in hit[0].foreign and (os.path.lexists(path)):
        raise OutputError(f"{path}: was not written by fefet-spice (or was changed since) and would be replaced; "
                          "move it away or choose another folder (even --force never replaces a file fefet-spice "
                          "did not write)")


def note_written(path: Path) -> None:
    hit = _owner(path)
    if hit:
        hit[0].written.add(hit[1])


def record(folder: Path, command: str | None, written: set[str]) -> None:
    """Write the marker of ``folder`` with the manifest: still-valid earlier entries plus ``written``."""
    from .atomic import write_json
    from .outdir import MARKER, SCHEMA

    folder = Path(folder)
    data = read_marker(folder) or {}
    old = manifest_of(folder) or {}
    files = {rel: h for rel, h in old.items() if sha256_file(folder / rel) == h}
    for rel in written:
        h = sha256_file(folder / rel)
        if h is not None and rel != MARKER:
            files[rel] = h
    owner = data.get("command", command)
    note = (f"written by `fefet-spice {owner}`; other commands refuse to write here without --force" if owner else
            "a folder fefet-spice wrote into with --force; it lists the files fefet-spice wrote (only those may "
            "be replaced)")
    write_json(folder / MARKER, {"schema": SCHEMA, "command": owner, "note": note, "files": dict(sorted(files.items()))})
