"""Netlist generation on unusual but valid parameter sets, and names that would clash in ngspice."""
import json
from dataclasses import replace

import pytest

from fefet_spice import presets
from fefet_spice.cli import main
from fefet_spice.errors import ParamError
from fefet_spice.io.params_file import save_params
from fefet_spice.spice.bench import cell_pulse_response


def test_fewer_domains_than_spice_bins_still_simulates():
    w = presets.nominal(presets.get("weight"))
    w8 = replace(w, ferro=replace(w.ferro, n_domains=8))
    s = presets.nominal(presets.get("sparsity"))
    g = cell_pulse_response(w8, s, [w.op.v_pulse_up] * 4, w.op.t_pulse)["g"]
    assert g[-1] > g[0] > 0


def test_trailing_newline_name_never_reaches_a_netlist(tmp_path, capsys):
    from fefet_spice.params import to_dict

    d = to_dict(presets.get("weight"))
    d["params"]["name"] = "fefet_w\n"
    f = tmp_path / "nl.json"
    f.write_text(json.dumps(d))
    assert main(["netlist", "--all", "--weight", str(f), "-o", str(tmp_path / "n")]) == 2
    assert "name" in capsys.readouterr().err
    assert not (tmp_path / "n").exists() or not any((tmp_path / "n").iterdir())


def test_weight_and_sparsity_with_the_same_name_are_rejected(tmp_path):
    w = replace(presets.get("weight"), name="FEFET_SPARSITY")
    with pytest.raises(ParamError, match="different names"):
        cell_pulse_response(w, presets.get("sparsity"), [3.9], 1e-6)
    f = save_params(tmp_path / "w.json", w)
    assert main(["netlist", "--all", "--weight", str(f), "-o", str(tmp_path / "n")]) == 2
