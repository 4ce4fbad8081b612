"""``fefet-spice cost``: files in, JSON and PNG out, clear errors on bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fefet_spice.cli import main
from fefet_spice.commands.cost import _parse_overrides
from fefet_spice.cost.energy_file import load_energy, load_sparsity
from fefet_spice.cost.networks import get_network
from fefet_spice.errors import DataError, ParamError

SAMPLE = Path(__file__).parent / "data" / "energy_sample.json"
DESIGNS = ("dense", "block", "vector", "element", "index_free", "index_free_diff")


def test_cost_command_writes_json_and_png(tmp_path, capsys):
    out, png = tmp_path / "c.json", tmp_path / "c.png"
    rc = main(["cost", "--network", "vgg8", "--sparsity", "preset", "--energy", str(SAMPLE),
               "--json", str(out), "--plot", str(png)])
    assert rc == 0
    rep = json.loads(out.read_text())
    assert set(rep["designs"]) == set(DESIGNS)
    for d in DESIGNS:
        assert set(rep["designs"][d]) == {"energy_j", "latency_s", "energy_rel_dense", "latency_rel_dense"}
        assert rep["designs"][d]["energy_j"] > 0
    assert rep["designs"]["dense"]["energy_rel_dense"] == 1.0
    assert rep["assumptions"]["device"]["write_energy_per_pulse_j"] == 4.2e-13
    assert "chip_bus_bits" in rep["assumptions"]["arch"]
    assert set(rep["breakdown"]["element"]["energy_parts_j"]) == {"index", "transfer", "array", "operator"}
    assert len(rep["sweep_uniform"]["sparsity"]) == len(rep["sweep_uniform"]["energy_gain_vs_dense"])
    assert rep["schedule_average"]["designs"]["index_free"]["energy_rel_dense"] > 0
    assert png.stat().st_size > 10_000
    assert "index_free" in capsys.readouterr().out


def test_cost_command_sparsity_file_and_overrides(tmp_path):
    sp = tmp_path / "sp.json"
    sp.write_text(json.dumps({"schema": "fefet-sparsity/1", "sparsity": {"conv1": 0.5, "conv2": 0.8, "fc": 0.6}}))
    out = tmp_path / "m.json"
    assert main(["cost", "--network", "msnet", "--sparsity", str(sp), "--neurosim-device",
                 "--set", "chip_bus_bits=512", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["sparsity"]["conv2"] == 0.8
    assert rep["assumptions"]["arch"]["chip_bus_bits"] == 512
    assert rep["weights"] == 1060


def test_uniform_sparsity_argument(tmp_path):
    out = tmp_path / "u.json"
    assert main(["cost", "--network", "msnet", "--sparsity", "0.3", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["overall_sparsity"] == pytest.approx(0.3)


def test_bad_inputs_give_clear_errors(tmp_path, capsys):
    data = json.loads(SAMPLE.read_text())
    data["write_energy_typo"] = 1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(DataError, match="write_energy_typo"):
        load_energy(bad)
    del data["write_energy_typo"], data["read_time_s"]
    bad.write_text(json.dumps(data))
    with pytest.raises(DataError, match="missing.*read_time_s"):
        load_energy(bad)
    data["read_time_s"] = -1.0
    bad.write_text(json.dumps(data))
    with pytest.raises(DataError, match="read_time_s"):
        load_energy(bad)
    data["schema"] = "fefet-energy/2"
    bad.write_text(json.dumps(data))
    with pytest.raises(DataError, match="schema"):
        load_energy(bad)
    sp = tmp_path / "sp.json"
    sp.write_text(json.dumps({"schema": "fefet-sparsity/1", "sparsity": {"conv1": 0.5, "conv9": 0.5}}))
    with pytest.raises(DataError, match="conv9"):
        load_sparsity(sp, get_network("msnet"))
    assert main(["cost", "--network", "msnet", "--sparsity", "1.5"]) == 2
    assert "sparsity" in capsys.readouterr().err
    assert main(["cost", "--network", "msnet", "--set", "no_such=1"]) == 2
    assert "no_such" in capsys.readouterr().err
    with pytest.raises(ParamError, match="no_such"):
        _parse_overrides(["no_such=1"])
