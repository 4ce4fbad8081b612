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


def _load_artifacts():
    """bench/artifacts.py: the committed artefacts, their commands, tolerances and the comparison."""
    import importlib.util
    import sys

    if "fefet_artifacts" in sys.modules:
        return sys.modules["fefet_artifacts"]
    spec = importlib.util.spec_from_file_location("fefet_artifacts", ROOT / "bench" / "artifacts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fefet_artifacts"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def artifacts():
    return _load_artifacts()
