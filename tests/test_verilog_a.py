"""Verilog-A modules: compiled by OpenVAF (openvaf-py) and held to the numpy model residual by residual."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from fefet_spice.cli import main
from fefet_spice.errors import FefetError, ParamError
from fefet_spice.spice.va_check import check_fecap, check_fefet
from fefet_spice.spice.verilog_a import fecap_module, fefet_module, verilog_a_files

ROOT = Path(__file__).resolve().parents[1]
NETS = ROOT / "netlists"


@pytest.mark.parametrize("kind", ["weight", "sparsity", "fecap"])
def test_committed_module_compiles_and_matches_numpy(kind, weight, sparsity):
    """1,000 random operating points (voltages, bin states, beta, Ea law, imprint, d2d, channel) each."""
    if kind == "fecap":
        res = check_fecap(NETS / "fecap.va", weight.ferro, 12, n_points=1000, seed=1)
    else:
        params, bins, v = (weight, 12, 10.0) if kind == "weight" else (sparsity, 4, 20.0)
        res = check_fefet(NETS / f"{params.name}.va", params, bins, n_points=1000, seed=2, v_gate=v)
        assert res.n_conducting >= 300  # the channel is checked on, not only off
    assert res.n_switching >= 1000  # and the kinetics while bins switch
    assert res.current_rel <= 1e-6, res
    assert res.charge_rel <= 1e-6, res
    assert res.dsdt_rel <= 1e-4, res


def test_generated_variant_with_stretch_and_lognormal(tmp_path, weight):
    """Defaults other than the presets' (beta != 1, lognormal Ea, imprint, ambipolar branch) reach the text."""
    fp = replace(weight.ferro, beta=1.6, ea_dist="lognormal", ea_sigma=0.06, v_imp=0.2, ea_corr=0.4)
    p = replace(weight, name="fefet_var", ferro=fp, channel=replace(weight.channel, amb_ratio=0.2))
    path = tmp_path / "fefet_var.va"
    path.write_text(fefet_module(p, 5))
    assert check_fefet(path, p, 5, n_points=200, seed=3).ok()
    cap = tmp_path / "cap.va"
    cap.write_text(fecap_module(fp, 7, module="mfm"))
    assert check_fecap(cap, fp, 7, n_points=200, seed=4).ok()


@pytest.mark.parametrize("old,new", [("0.5 * mw * pm", "0.501 * mw * pm"),  # coupling
                                     ("1.0 - 1.0 / beta", "1.0 - 0.98 / beta"),  # stretch law
                                     ("qgd = 0.5 * (cg", "qgd = 0.4999 * (cg")])  # charge
def test_check_detects_a_wrong_module(tmp_path, weight, old, new):
    text = (NETS / "fefet_weight.va").read_text()
    assert old in text
    bad = tmp_path / "bad.va"
    bad.write_text(text.replace(old, new, 1))
    assert not check_fefet(bad, weight, 12, n_points=300, seed=5).ok()


def test_compile_error_is_reported(tmp_path, weight):
    bad = tmp_path / "bad.va"
    bad.write_text((NETS / "fefet_weight.va").read_text().replace("endmodule", "endmodul"))
    with pytest.raises(FefetError, match="does not compile"):
        check_fefet(bad, weight, 12, n_points=1)


def test_text_is_deterministic_and_clean(weight, sparsity):
    a, b = verilog_a_files(weight, sparsity), verilog_a_files(weight, sparsity)
    assert a == b and sorted(a) == ["fecap.va", "fefet_sparsity.va", "fefet_weight.va"]
    text = a["fefet_weight.va"]
    assert "$random" not in text and "$bound_step" in text
    params = [ln for ln in text.splitlines() if " parameter " in ln]
    assert params and all(" from " in ln and "units=" in ln for ln in params)
    assert sum('type="instance"' in ln for ln in params) == 2 + 12  # kea, dvt, s0_0..s0_11
    with pytest.raises(ParamError, match="keyword"):
        fefet_module(replace(weight, name="module"), 4)


def test_cli_verilog_a_writes_the_committed_files(tmp_path):
    assert main(["netlist", "--verilog-a", "-o", str(tmp_path)]) == 0
    for name in ("fefet_weight.va", "fefet_sparsity.va", "fecap.va"):
        assert (tmp_path / name).read_bytes() == (NETS / name).read_bytes(), name
    manifest = json.loads((tmp_path / "netlists.json").read_text())
    assert sorted(manifest["files"]) == ["fecap.va", "fefet_sparsity.va", "fefet_weight.va"]


@pytest.mark.parametrize("kind", ["weight", "sparsity", "fecap"])
def test_committed_module_native_code_matches_numpy(kind, weight, sparsity):
    """The same files through OpenVAF's LLVM back-end (VerilogAE), 1,000 points each."""
    from fefet_spice.spice.va_native import check_fecap_native, check_fefet_native

    if kind == "fecap":
        res = check_fecap_native(NETS / "fecap.va", weight.ferro, 12, seed=6)
    else:
        params, bins, v = (weight, 12, 10.0) if kind == "weight" else (sparsity, 4, 20.0)
        res = check_fefet_native(NETS / f"{params.name}.va", params, bins, seed=7, v_gate=v)
        assert res.n_conducting >= 300
    assert res.n_points == 1000 and res.n_switching >= 1000
    assert res.ok(), res


def test_cli_verilog_a_keeps_manifest_and_rejects_keyword_names(tmp_path, weight):
    from fefet_spice.params import to_dict

    assert main(["netlist", "--all", "-o", str(tmp_path)]) == 0  # an empty folder becomes ours
    manifest = tmp_path / "netlists.json"
    lib = json.loads(manifest.read_text())["files"]["fefet_weight.lib"]
    assert main(["netlist", "--verilog-a", "-o", str(tmp_path)]) == 0
    files = json.loads(manifest.read_text())["files"]
    assert files["fefet_weight.lib"] == lib and "fecap.va" in files  # the other files' entries are kept
    manifest.write_text(json.dumps({"schema": "fefet-netlists/1", "files": {"a.lib": "00"}}))  # edited by hand
    assert main(["netlist", "--verilog-a", "-o", str(tmp_path)]) == 2  # never replaced
    assert json.loads(manifest.read_text())["files"] == {"a.lib": "00"}
    data = to_dict(weight)
    data["params"]["name"] = "endmodule"  # a valid identifier, but a Verilog-A keyword
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    out = tmp_path / "va"
    assert main(["netlist", "--verilog-a", "-o", str(out), "--weight", str(bad)]) == 2
    assert not out.exists()


@pytest.mark.parametrize("kind", ["weight", "fecap"])
def test_jacobian_matches_finite_differences(kind, weight):
    """OpenVAF's derivatives (what a simulator's Newton uses) are finite and right, beta != 1 included."""
    import numpy as np

    from fefet_spice.model.channel import drain_current
    from fefet_spice.spice.va_check import compile_file, jacobian_error
    from fefet_spice.spice.verilog_a import fefet_param_values, ferro_param_values

    rng = np.random.default_rng(8)
    module = compile_file(NETS / ("fecap.va" if kind == "fecap" else "fefet_weight.va"))
    worst = 0.0
    for i in range(30):
        p = replace(weight, ferro=replace(weight.ferro, beta=(1.0, 0.7, 1.8)[i % 3]))
        s = rng.uniform(-0.99, 0.99, 12)
        nv = {f"x{k}": float(x) for k, x in enumerate(s)}
        init = {f"s0_{k}": -1.0 for k in range(12)} | {"kea": 1.0, "dsmax": 0.05}
        if kind == "fecap":
            nv |= {"p": rng.uniform(-6, 6), "n": rng.uniform(-1, 1)}
            values = ferro_param_values(p.ferro) | init
        else:
            vg, vd, vs = rng.uniform(-6, 6), rng.uniform(-1, 1), rng.uniform(-0.3, 0.3)
            cur = float(drain_current(p.channel, vg, vd, p.vt_mid - 0.5 * p.mw * s.mean(), vs))
            hr = 0.5 * p.channel.r_contact
            nv |= {"g": vg, "d": vd, "s": vs, "di": vd - cur * hr, "si": vs + cur * hr}
            values = fefet_param_values(p) | init | {"dvt": 0.0}
        worst = max(worst, jacobian_error(module, nv, values))
    assert worst < 1e-5
