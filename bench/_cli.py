"""Argument types and checks shared by the benchmark scripts' command lines (argparse).

The scripts run as ``python bench/X.py``, so this folder is on ``sys.path`` and ``import _cli`` finds it.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    """An integer >= 1 (argparse ``type``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def seed_list(text: str) -> list[int]:
    """Comma-separated seeds, at least one, each >= 0 (argparse ``type``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected at least one seed")
    try:
        seeds = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"seeds must be >= 0, got {text!r}")
    return seeds


def check_json_folder(ap: argparse.ArgumentParser, path: str | None) -> None:
    """Refuse a ``--json`` path whose folder does not exist, before any work (``ap.error``: exit 2)."""
    if path and not Path(path).resolve().parent.is_dir():
        ap.error(f"argument --json: the folder of {path!r} does not exist")
