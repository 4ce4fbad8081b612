"""Stage runner with content-hash caching.

Each stage gets a key: the SHA-256 of its name, its configuration, the hashes of its input files and the
keys of the stages it depends on. A stage whose key matches the manifest in its output folder is not
run again; its recorded summary is reused. Outputs are written under ``out/<stage>/``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import DataError
from ..io.atomic import dumps, write_json

MANIFEST = "manifest.json"


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (or of every file below a folder, in sorted order)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (an input of the main job)")
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        h.update(p.read_bytes())
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
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if data.get("key") != key:
        return None
    if not all((folder / f).exists() for f in data.get("figures", []) + data.get("files", [])):
        return None
    return data


def _run_into(stage: Stage, folder: Path, key: str, upstream: dict, t0: float) -> dict:
    """Run ``stage`` into ``folder``; the previous outputs are moved aside first and put back if the
    stage fails, so a failed re-run leaves them (and the report that points at them) intact."""
    old = folder.with_name(f".{folder.name}.previous")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    folder.mkdir(parents=True)
    try:
        res = stage.func(folder, stage.config, upstream)
        rel = lambda paths: [str(Path(p).relative_to(folder)) for p in paths]  # noqa: E731
        manifest = {"key": key, "summary": res.summary, "figures": rel(res.figures), "files": rel(res.files),
                    "seconds": time.monotonic() - t0}
        write_json(folder / MANIFEST, manifest)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        if old.exists():
            old.rename(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def run_stages(stages: list[Stage], out: Path, version: str, log=print) -> list[StageRecord]:
    """Run ``stages`` in order into ``out/<name>/``, reusing every stage whose key is unchanged."""
    out.mkdir(parents=True, exist_ok=True)
    keys: dict[str, str] = {}
    records: dict[str, StageRecord] = {}
    t_start = time.monotonic()
    remaining = sum(s.estimate_s for s in stages)
    for i, stage in enumerate(stages, 1):
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
            cached = _run_into(stage, folder, key, {n: records[n] for n in stage.after}, t0)
            log(f"[{i}/{len(stages)}] {stage.title}: done in {time.monotonic() - t0:.1f}s")
        else:
            log(f"[{i}/{len(stages)}] {stage.title}: unchanged, reused from {folder}")
        records[stage.name] = StageRecord(
            name=stage.name, title=stage.title, key=key, cached=reused,
            seconds=float(cached.get("seconds", 0.0)), summary=cached["summary"],
            figures=[str(folder / f) for f in cached["figures"]], files=[str(folder / f) for f in cached["files"]])
    log(f"all {len(stages)} stages in {time.monotonic() - t_start:.1f}s")
    return list(records.values())
