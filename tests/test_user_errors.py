"""Errors a user meets: one clear sentence on stderr, exit status 2, nothing half-written (issue 8)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from fefet_spice.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_ngspice_missing(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "NGSPICE_LIBRARY_PATH": str(tmp_path / "libngspice.so")}
    out = tmp_path / "energy.json"
    proc = subprocess.run([sys.executable, "-W", "ignore", "-m", "fefet_spice.cli", "netlist", "--energy", str(out),
                           "-o", str(tmp_path / "n")], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2
    line = _one_line(proc.stderr)
    assert "ngspice is not installed" in line
    assert not out.exists()


def test_bad_measurement_file(tmp_path, capsys):
    bad = tmp_path / "idvg.csv"
    bad.write_text("# fefet-measurement: 1\n# kind: idvg\n# vd: 0.1\nt [s],vg [V],id [A]\n0.1,0,1e-9\n0.2,0.1,oops\n")
    out = tmp_path / "fit.json"
    assert main(["fit", str(bad), "-o", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "idvg.csv" in line and "line" in line
    assert not out.exists()


def test_fit_that_does_not_converge(tmp_path, capsys):
    src = ROOT / "measurements" / "weight" / "idvg_pm5V_vd0.1.csv"
    lines = src.read_text().splitlines()
    head = [ln for ln in lines if ln.startswith("#")] + [lines[len([ln for ln in lines if ln.startswith("#")])]]
    rows = [ln.split(",") for ln in lines[len(head):]]
    rng = np.random.default_rng(0)
    currents = [r[2] for r in rows]
    rng.shuffle(currents)  # the same values in random order: no model can follow them
    scrambled = tmp_path / "scrambled.csv"
    scrambled.write_text("\n".join(head + [f"{r[0]},{r[1]},{c}" for r, c in zip(rows, currents)]) + "\n")
    out = tmp_path / "fit.json"
    assert main(["fit", str(scrambled), "-o", str(out), "--no-plots", "--max-nfev", "30"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "did not converge" in line
    assert not out.exists()


def test_lut_from_another_schema_version(tmp_path, capsys):
    lut = tmp_path / "lut"
    shutil.copytree(ROOT / "luts" / "weight_preset", lut)
    side = json.loads((lut / "lut.json").read_text())
    side["schema"] = "fefet-synapse-lut/2"
    (lut / "lut.json").write_text(json.dumps(side))
    assert main(["export-lut", str(lut), "--format", "crosssim", "-o", str(tmp_path / "x")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "lut.json" in line and "fefet-synapse-lut/1" in line
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_lut_operating_point_must_be_numbers(tmp_path):
    import pytest

    from fefet_spice.errors import DataError
    from fefet_spice.lut.native import load_lut

    lut = tmp_path / "lut"
    shutil.copytree(ROOT / "luts" / "weight_preset", lut)
    side = json.loads((lut / "lut.json").read_text())
    side["operating_point"]["v_read_d"] = '0.1);system("id");//'
    (lut / "lut.json").write_text(json.dumps(side))
    with pytest.raises(DataError, match="operating_point.v_read_d"):
        load_lut(lut)
