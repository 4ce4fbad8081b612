"""Shared fixtures. Paths to ../shared (test data that must never be copied into the repository)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder {SHARED} is absent")
    return SHARED


@pytest.fixture(scope="session")
def weight():
    from fefet_spice import presets

    return presets.nominal(presets.get("weight"))


@pytest.fixture(scope="session")
def sparsity():
    from fefet_spice import presets

    return presets.nominal(presets.get("sparsity"))
