"""Fuzz / attack tests, part 3: ``--force`` never destroys, every input bounded, no silent chance-level result.

Each case of the second hardening round: a hostile or careless input must end in exit 0 with a correct
result or exit 2 with one sentence naming the file/field, no traceback, nothing lost (contract: ``_fuzz.cli``).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _fuzz import ROOT, _snapshot, cli, cli_subprocess, committed_files_unchanged  # noqa: F401  (autouse fixture)

LUT = ROOT / "luts" / "weight_preset"
CHAR = ["characterize", "--n-devices", "1", "--n-pulses", "2", "--n-probe", "1", "--serial", "--no-plots"]


# --- 1. --force never deletes or replaces a file fefet-spice did not write -------------------------------

def test_characterize_force_keeps_a_foreign_cache_folder(tmp_path):
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "important.txt").write_text("mine")
    rc, _, _ = cli(*CHAR, "-o", tmp_path, "--force")
    assert rc == 0 and (tmp_path / ".cache" / "important.txt").read_text() == "mine"
    assert (tmp_path / "lut.json").is_file()
    assert sorted(p.name for p in (tmp_path / ".cache").iterdir()) == ["important.txt"]


@pytest.mark.parametrize("name", ["lut.json", "characterization.json", "lut.npz"])
def test_characterize_force_refuses_to_replace_a_foreign_output(tmp_path, name):
    (tmp_path / name).write_text("the user's own")
    before = _snapshot(tmp_path)
    rc, _, msg = cli(*CHAR, "-o", tmp_path, "--force")
    assert rc == 2 and name in msg and "never replaces" in msg
    assert _snapshot(tmp_path) == before


def test_force_replaces_its_own_outputs_but_not_a_changed_one(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli(*CHAR, "-o", tmp_path, "--force")[0] == 0
    assert cli(*CHAR, "-o", tmp_path, "--force", "--seed", "1")[0] == 0  # its own earlier outputs: replaced
    (tmp_path / "characterization.json").write_text('{"edited": true}')
    before = _snapshot(tmp_path)
    rc, _, msg = cli(*CHAR, "-o", tmp_path, "--force", "--seed", "2")
    assert rc == 2 and "characterization.json" in msg
    assert _snapshot(tmp_path) == before


def test_own_folder_rerun_refuses_a_file_the_user_edited(tmp_path):
    out = tmp_path / "o"
    assert cli(*CHAR, "-o", out)[0] == 0
    assert cli(*CHAR, "-o", out, "--seed", "1")[0] == 0
    (out / "lut.json").write_text("edited")
    rc, _, msg = cli(*CHAR, "-o", out, "--seed", "2")
    assert rc == 2 and "lut.json" in msg
    assert (out / "lut.json").read_text() == "edited"


@pytest.mark.parametrize("args, victim", [
    (["gen-measurements", "--device", "weight"], "weight/idvg_pm5V_vd0.1.csv"),
    (["netlist", "--all"], "cell_tb.cir"),
    (["export-lut", str(LUT), "--format", "native"], "lut.json"),
    (["export-lut", str(LUT), "--format", "crosssim"], "dG_increasing.txt"),
])
def test_force_refuses_a_clash_with_a_foreign_file(tmp_path, args, victim):
    (tmp_path / victim).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / victim).write_text("the user's own")
    before = _snapshot(tmp_path)
    rc, _, msg = cli(*args, "-o", tmp_path, "--force")
    assert rc == 2 and Path(victim).name in msg
    assert _snapshot(tmp_path) == before


@pytest.mark.slow
def test_run_force_never_replaces_a_foreign_stage_file(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weight_dc.json").write_text("the user's own")
    rc, _, msg = cli("run", "--quick", "-o", tmp_path, "--force", limit_s=300)
    assert rc == 2 and "weight_dc.json" in msg
    assert (tmp_path / "model" / "weight_dc.json").read_text() == "the user's own"
