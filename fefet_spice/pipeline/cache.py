"""Stage runner with content-hash caching.

Each stage gets a key: the SHA-256 of its name, its configuration, the hashes of its input files and the
keys of the stages it depends on. A stage whose key matches the manifest in its output folder is not
run again; its recorded summary is reused. Outputs are written under ``out/<stage>/``.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import interrupt
from ..errors import DataError, FefetError
from ..io.ledger import LEDGER
from ..io.outdir import OutputError
from ..io.atomic import dumps, write_json

MANIFEST = "manifest.json"


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (or of every file below a folder, in sorted order)."""
    from ..io.inputs import check_input_file, kind_of, not_usable

    path = Path(path)
    kind = kind_of(path)
    if kind not in ("file", "folder"):
        raise DataError(f"{path}: {not_usable(path)} (an input of the main job)")
    h = hashlib.sha256()
    # regular files only (is_file follows links: a link to /dev/zero or a FIFO is left out, never read)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if kind == "folder" else [path]
    for p in files:
        check_input_file(p)
        h.update(str(p.relative_to(path) if kind == "folder" else p.name).encode())
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


@dataclass
class StageResult:
    """What a stage reports: key numbers (JSON-able), figures (PNG paths) and other files it wrote."""

    summary: dict[str, Any]
    figures: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


@dataclass
class Stage:
    """One pipeline stage: ``func(folder, config, upstream) -> StageResult``."""

    name: str
    title: str
    func: Callable[[Path, dict, dict], StageResult]
    config: dict = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    estimate_s: float = 10.0


@dataclass
class StageRecord:
    name: str
    title: str
    key: str
    cached: bool
    seconds: float
    summary: dict
    figures: list[str]
    files: list[str]


def stage_key(stage: Stage, upstream_keys: dict[str, str], version: str) -> str:
    body = {"name": stage.name, "config": stage.config, "version": version,
            "inputs": {str(p): file_hash(p) for p in stage.inputs},
            "after": {n: upstream_keys[n] for n in stage.after}}
    return hashlib.sha256(dumps(body).encode()).hexdigest()


def _load_manifest(folder: Path, key: str) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError, RecursionError):  # missing, unreadable, not JSON: run the stage again
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    if not (isinstance(data.get("summary"), dict) and isinstance(data.get("figures"), list)
            and isinstance(data.get("files"), list)
            and all(isinstance(f, str) and not Path(f).is_absolute() and ".." not in Path(f).parts
                    for f in data["figures"] + data["files"])):
        return None
    if not all((folder / f).exists() for f in data.get("figures", []) + data.get("files", [])):
        return None
    return data


def _files_under(folder: Path) -> set[str]:
    """Relative paths of every file (and symbolic link) below ``folder``."""
    if not folder.is_dir() or folder.is_symlink():
        return set()
    out = set()
    for root, dirs, files in os.walk(folder):  # never descends into a linked folder: the link is an entry
        base = Path(root).relative_to(folder)
        out.update(str(base / n) for n in files if n != LEDGER)  # a named-output ledger is nobody's file
        out.update(str(base / d) for d in dirs if (Path(root) / d).is_symlink())
    return {str(Path(p)) for p in out}


def _owned_files(folder: Path) -> set[str]:
    """Files the last run of this stage wrote (its manifest's ``written`` list, plus the manifest)."""
    try:
        data = json.loads((folder / MANIFEST).read_text())
        written = data.get("written")
    except (OSError, ValueError, AttributeError, RecursionError):
        return set()
    if not isinstance(written, list):  # a manifest from before the list: its figures and files
        written = [f for f in data.get("figures", []) + data.get("files", []) if isinstance(f, str)]
    return {f for f in written if isinstance(f, str)} | {MANIFEST}


def _move(names, src: Path, dst: Path) -> None:
    for name in sorted(names):
        if (src / name).is_file() or (src / name).is_symlink():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).rename(dst / name)


def _prune_empty(folder: Path) -> None:
    """Remove the empty sub-folders of ``folder`` (never following a link)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for root, dirs, _ in os.walk(folder, topdown=False):
        for d in dirs:
            path = Path(root) / d
            if not path.is_symlink():
                try:
                    path.rmdir()
                except OSError:
                    pass


JOURNAL = ".stage-in-progress.json"


def _recover(folder: Path, old: Path) -> None:
    """Undo a run of this stage that was killed midway: its partial outputs go, the previous outputs
    (moved aside into ``old``) come back. Files the journal lists as not ours are never touched."""
    if not old.is_dir() or old.is_symlink():
        return
    try:
        foreign = set(json.loads((old / JOURNAL).read_text())["foreign"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        foreign = None
    if foreign is not None:
        for name in _files_under(folder) - foreign:
            (folder / name).unlink(missing_ok=True)
        (old / JOURNAL).unlink(missing_ok=True)
    _move({n for n in _files_under(old) if not (folder / n).exists()}, old, folder)
    _prune_empty(old)
    try:
        old.rmdir()
    except OSError:
        raise OutputError(f"{old}: left over from an interrupted run and not empty; move it away") from None
    _prune_empty(folder)


def _run_into(stage: Stage, folder: Path, key: str, upstream: dict, t0: float, force: bool = False) -> dict:
    """Run ``stage`` into ``folder``. Only the files the stage's own manifest lists are replaced: they are
    moved aside first and put back if the stage fails, so a failed re-run leaves them (and the report
    that points at them) intact. A file in the folder that the stage did not write is never deleted; it
    stops the run unless ``force``."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputError(f"{folder}: expected the folder of stage {stage.name!r}; it is a file or a link")
    old = folder.with_name(f".{folder.name}.previous")
    folder.mkdir(parents=True, exist_ok=True)
    _recover(folder, old)
    present = _files_under(folder)
    owned = _owned_files(folder) & present
    foreign = present - owned
    if foreign and not force:
        raise OutputError(f"{folder}: holds {sorted(foreign)[0]!r}, which fefet-spice did not write; move it "
                          "away or choose another -o (--force keeps it and writes beside it)")
    old.mkdir()
    write_json(old / JOURNAL, {"stage": stage.name, "foreign": sorted(foreign)})
    _move(owned, folder, old)
    _prune_empty(folder)
    from ..io.manifest import guard, note_written, release

    try:
        try:
            guard(folder, foreign)  # --force: the stage writes beside a foreign file, never over it
            try:
                res = stage.func(folder, stage.config, upstream)
            finally:
                done = release(folder)
                for rel in sorted(done.written) if done else ():  # the job folder's marker lists them too,
                    note_written(folder / rel)                      # so the commands the report prints may rewrite them
        except FefetError as exc:  # say which stage failed (its inputs are in that stage's folder)
            first, nl, rest = str(exc).partition("\n")
            try:
                renamed = type(exc)(f"stage {stage.name!r} ({folder}): {first}{nl}{rest}")
            except TypeError:
                raise exc from None
            raise renamed from exc
        rel = lambda paths: [str(Path(p).relative_to(folder)) for p in paths]  # noqa: E731
        written = sorted(_files_under(folder) - foreign - {MANIFEST})
        manifest = {"key": key, "summary": res.summary, "figures": rel(res.figures), "files": rel(res.files),
                    "seconds": time.monotonic() - t0, "written": written}
        write_json(folder / MANIFEST, manifest)
    except BaseException:
        _recover(folder, old)
        raise
    (old / JOURNAL).unlink(missing_ok=True)
    for name in _files_under(old):
        (old / name).unlink(missing_ok=True)
    _prune_empty(old)
    old.rmdir()
    return manifest


def _preflight(stages: list[Stage], out: Path, version: str) -> None:
    """Before any stage runs: refuse if a stage that will run holds files fefet-spice did not write."""
    keys: dict[str, str] = {}
    for stage in stages:
        keys[stage.name] = key = stage_key(stage, keys, version)
        folder = out / stage.name
        if _load_manifest(folder, key) is not None:
            continue
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise OutputError(f"{folder}: expected the folder of stage {stage.name!r}; it is a file or a link")
        present = _files_under(folder)
        try:
            old = folder.with_name(f".{folder.name}.previous")
            foreign = present & set(json.loads((old / JOURNAL).read_text())["foreign"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            foreign = present - _owned_files(folder)
        if foreign:
            raise OutputError(f"{folder}: holds {sorted(foreign)[0]!r}, which fefet-spice did not write; move it "
                              "away or choose another -o (--force keeps it and writes beside it)")


def run_stages(stages: list[Stage], out: Path, version: str, log=print, force: bool = False) -> list[StageRecord]:
    """Run ``stages`` in order into ``out/<name>/``, reusing every stage whose key is unchanged.
    ``force``: run a stage even if its folder holds files it did not write (they are kept)."""
    out.mkdir(parents=True, exist_ok=True)
    if not force:
        _preflight(stages, out, version)
    keys: dict[str, str] = {}
    records: dict[str, StageRecord] = {}
    t_start = time.monotonic()
    remaining = sum(s.estimate_s for s in stages)
    for i, stage in enumerate(stages, 1):
        interrupt.check()  # between stages: a Ctrl-C a finalizer swallowed stops the job here
        key = stage_key(stage, keys, version)
        keys[stage.name] = key
        folder = out / stage.name
        remaining -= stage.estimate_s
        cached = _load_manifest(folder, key)
        reused = cached is not None
        t0 = time.monotonic()
        if not reused:
            log(f"[{i}/{len(stages)}] {stage.title}: running (about {stage.estimate_s:.0f}s; "
                f"~{stage.estimate_s + remaining:.0f}s left in the job)")
            cached = _run_into(stage, folder, key, {n: records[n] for n in stage.after}, t0, force)
            log(f"[{i}/{len(stages)}] {stage.title}: done in {time.monotonic() - t0:.1f}s")
        else:
            log(f"[{i}/{len(stages)}] {stage.title}: unchanged, reused from {folder}")
        records[stage.name] = StageRecord(
            name=stage.name, title=stage.title, key=key, cached=reused,
            seconds=float(cached.get("seconds", 0.0)), summary=cached["summary"],
            figures=[str(folder / f) for f in cached["figures"]], files=[str(folder / f) for f in cached["files"]])
    log(f"all {len(stages)} stages in {time.monotonic() - t_start:.1f}s")
    return list(records.values())
