import dataclasses
import json

import pytest

from fefet_spice import presets
from fefet_spice.errors import ParamError
from fefet_spice.io.params_file import load_params, save_params
from fefet_spice.params import FeFETParams, FerroParams, from_dict, to_dict


def test_json_round_trip_is_lossless(tmp_path):
    for name in presets.names():
        p = presets.get(name)
        path = save_params(tmp_path / f"{name}.json", p)
        assert load_params(path) == p
        assert json.loads(path.read_text())["schema_version"] == 1


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        presets.get("weight").mw = 3.0


def test_unknown_key_is_rejected_with_its_name():
    d = to_dict(presets.get("weight"))
    d["params"]["ferro"]["ea_typo"] = 1.0
    with pytest.raises(ParamError, match="ferro.*ea_typo"):
        from_dict(d)


def test_other_schema_version_is_rejected():
    d = to_dict(presets.get("weight"))
    d["schema_version"] = 2
    with pytest.raises(ParamError, match="schema_version"):
        from_dict(d)


@pytest.mark.parametrize("bad", ["w\n.control", "abc\n", "x .control", "shell rm", "a;b", "", "1abc", "w" * 40])
def test_netlist_injection_in_name_is_rejected(bad):
    with pytest.raises(ParamError, match="name"):
        FeFETParams(name=bad)


@pytest.mark.parametrize("value", ["1\n.control\nshell ls", ".control", float("nan"), True, None])
def test_non_numeric_values_are_rejected_naming_the_field(value, tmp_path):
    d = to_dict(presets.get("weight"))
    d["params"]["ferro"]["tau0"] = value
    path = tmp_path / "p.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ParamError, match=r"p\.json.*ferro\.tau0"):
        load_params(path)


def test_out_of_range_value_names_the_field():
    with pytest.raises(ParamError, match="ferro.ps"):
        FerroParams(ps=-1.0)
    with pytest.raises(ParamError, match="ea_dist"):
        FerroParams(ea_dist="uniform")


def test_bad_json_names_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n "schema": "fefet-params",\n oops\n}')
    with pytest.raises(ParamError, match=r"broken\.json: line 3"):
        load_params(path)
