"""Every committed artefact still matches what its documented command produces today, within the tolerance
stated in bench/artifacts.py (`make check-artifacts` runs the same check; `make artifacts` regenerates).

The quick artefacts are also checked in the default suite (measurements: test_fit.py, luts/weight_preset:
test_characterize_cli.py, netlists: test_spice_netlists.py); the refits and the ngspice LUT take minutes.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ngspice_version() -> str | None:
    try:
        out = subprocess.run(["ngspice", "-v"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for word in out.replace(":", " ").split():
        if word.startswith("ngspice-"):
            return word
    return None


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fits/weight_ref.json", "fits/sparsity_ref.json", "luts/weight_ref",
                                  "luts/weight_ref_traffic"])
def test_committed_artifact_matches_its_command(name, artifacts):
    if name.startswith("luts/"):
        recorded = json.loads((ROOT / name / "lut.json").read_text())["provenance"]["simulator_version"]
        if _ngspice_version() != recorded:
            pytest.skip(f"{name} was made with {recorded}; this machine has {_ngspice_version()}")
    result = artifacts.check(artifacts.by_name([name]), log=lambda *_: None)
    assert result[name] == [], "\n".join(result[name][:20]) + "\nregenerate with `make artifacts`"
