"""NeuroSim exports checked in a consumer: the MLP+NeuroSim V3.0 constructor compiled with g++ into our own
harness (tests/neurosim_harness.cpp, built from V3.0's RealDevice fields and Write at neurosim/MLP_NeuroSim_V3.0
commit cc13863), the V2.1 update rule (neurosim/DNN_NeuroSim_V2.1 commit 18289cb,
Training_pytorch/utee/wage_quantizer.py QG/W) re-implemented in numpy, and the patches applied with patch -p1."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fefet_spice.errors import DataError
from fefet_spice.lut import export_neurosim as ns
from fefet_spice.lut import from_neurosim
from fefet_spice.lut import neurosim_model as nm
from fefet_spice.lut.core import mean_branch
from fefet_spice.lut.native import load_lut

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "tests" / "neurosim_harness.cpp"
LUT = ROOT / "luts" / "weight_ref"
GXX = shutil.which("g++")
PATCH = shutil.which("patch")
# Every field MLP+NeuroSim V3.0's RealDevice::RealDevice assigns (Cell.cpp, commit cc13863).
V30_FIELDS = (
    "x", "y", "maxConductance", "minConductance", "avgMaxConductance", "avgMinConductance", "conductance",
    "conductancePrev", "readVoltage", "readPulseWidth", "writeVoltageLTP", "writeVoltageLTD", "writePulseWidthLTP",
    "writePulseWidthLTD", "writeEnergy", "maxNumLevelLTP", "maxNumLevelLTD", "numPulse", "cmosAccess", "FeFET",
    "gateCapFeFET", "resistanceAccess", "nonlinearIV", "NL", "nonlinearWrite", "nonIdenticalPulse", "readNoise",
    "sigmaReadNoise", "gaussian_dist", "NL_LTP", "NL_LTD", "sigmaDtoD", "gaussian_dist2", "paramALTP", "paramALTD",
    "sigmaCtoC", "gaussian_dist3", "conductanceRangeVar", "maxConductanceVar", "minConductanceVar",
    "gaussian_dist_maxConductance", "gaussian_dist_minConductance", "heightInFeatureSize", "widthInFeatureSize")
UNSET, IUNSET = -1.2345e300, -123456789


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("ns")
    lut = load_lut(LUT)
    ns.write_neurosim(lut, out, origin="luts/weight_ref")
    return lut, out, json.loads((out / "neurosim_realdevice.json").read_text())


def _harness(constructor: Path, tmp: Path, cells: int = 2000) -> tuple[dict, np.ndarray, tuple]:
    exe = tmp / "harness"
    subprocess.run([GXX, "-O1", "-std=c++11", "-Wall", "-Werror", f'-DCONSTRUCTOR="{constructor}"', "-o", str(exe),
                    str(HARNESS)], check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe), str(cells), "0"], check=True, capture_output=True, text=True).stdout
    fields, traj, read = {}, [], None
    for line in out.splitlines():
        tag, *rest = line.split()
        if tag == "F":
            fields[rest[0]] = float(rest[1])
        elif tag == "T":
            traj.append(float(rest[1]))
        else:
            read = (float(rest[0]), float(rest[1]))
    return fields, np.array(traj), read


@pytest.mark.skipif(GXX is None, reason="g++ not installed")
def test_v30_constructor_in_harness_follows_the_lut(exported, tmp_path):
    lut, out, data = exported
    fields, traj, (read_mean, read_std) = _harness(out / "neurosim_realdevice_constructor.cpp", tmp_path)
    assert set(V30_FIELDS) <= set(fields)
    unset = [f for f in V30_FIELDS if fields[f] in (UNSET, IUNSET, -1.0)]
    assert not unset, f"constructor leaves V3.0 fields unset: {unset}"
    dev, der = data["RealDevice"], data["derived"]
    # derived values are NeuroSim's own computations on our numbers (getParamA table bins, sigma, state)
    assert fields["paramALTP"] == pytest.approx(der["paramALTP"], rel=1e-6)
    assert fields["paramALTD"] == pytest.approx(der["paramALTD"], rel=1e-6)
    assert fields["sigmaCtoC"] == pytest.approx(dev["sigmaCtoC"], rel=1e-12)
    assert fields["conductance"] == fields["minConductance"] == dev["minConductance"]
    up, down = mean_branch(lut, +1), mean_branch(lut, -1)
    n_up, n_down = int(fields["maxNumLevelLTP"]), int(fields["maxNumLevelLTD"])
    assert (n_up, n_down) == (up.size - 1, down.size - 1)  # the measured pulse counts
    for p in (10, 20, 64):
        assert traj[p] == pytest.approx(up[p], rel=0.05), f"LTP after {p} pulses"
    span = dev["maxConductance"] - dev["minConductance"]
    assert (traj[n_up] - dev["maxConductance"]) / span > -0.02
    assert (traj[n_up + n_down] - dev["minConductance"]) / span < 0.02  # depression reaches G_min
    assert abs(read_mean) < 5 * read_std / math.sqrt(2000)
    assert read_std == pytest.approx(dev["sigmaReadNoise"], rel=0.1)  # relative read noise


@pytest.mark.skipif(GXX is None, reason="g++ not installed")
@pytest.mark.parametrize("breakage", ["drop FeFET", "sigmaCtoC first"])
def test_harness_catches_a_broken_constructor(exported, tmp_path, breakage):
    """What a wrong paste does: a field left unset, or a derived value computed before its inputs."""
    _, out, data = exported
    lines = (out / "neurosim_realdevice_constructor.cpp").read_text().splitlines(keepends=True)
    if breakage == "drop FeFET":
        lines = [ln for ln in lines if not ln.lstrip().startswith("FeFET =")]
    else:
        moved = next(ln for ln in lines if ln.lstrip().startswith("sigmaCtoC ="))
        lines.remove(moved)
        lines.insert(next(i for i, ln in enumerate(lines) if "this->x" in ln) + 1, moved)
    broken = tmp_path / "broken.cpp"
    broken.write_text("".join(lines))
    fields, _, _ = _harness(broken, tmp_path, cells=10)
    if breakage == "drop FeFET":
        assert fields["FeFET"] == -1.0
    else:
        assert fields["sigmaCtoC"] != pytest.approx(data["RealDevice"]["sigmaCtoC"], rel=1e-6)


def test_labels_recover_neurosim_bins_and_index_the_table():
    a_ltp, a_ltd = nm.a_for_label(1.75) * 64, nm.a_for_label(1.46) * 64
    lut = from_neurosim(1e-7, 6.1e-6, a_ltp, a_ltd, 64, n_traj=4, rng=0)
    data = ns.realdevice(lut)
    dev = data["RealDevice"]
    assert data["fit"]["ltp"]["label_bin"] == 1.75 and data["fit"]["ltd"]["label_bin"] == -1.46
    for key, k in (("NL_LTP", 175), ("NL_LTD", 146)):  # NeuroSim's index: (int)(|NL| * 100) - 1
        assert int(abs(dev[key]) * 100) - 1 == k - 1
    assert dev["sigmaCtoC"] == 0.0 and dev["maxNumLevelLTP"] == 64
    assert nm.table_a_over_pmax(1.0001) == pytest.approx(1.251653, rel=1e-5)  # V3.0 formula.cpp entry 99
    assert nm.table_a_over_pmax(-0.0101) == pytest.approx(-126.268958, rel=1e-5)  # entry 0


def test_c2c_is_lowered_only_when_neurosim_would_stall():
    lut = from_neurosim(1e-9, 6e-6, nm.a_for_label(3.0) * 64, nm.a_for_label(5.0) * 64, 64, sigma_c2c=0.05,
                        n_traj=32, rng=1)
    data = ns.realdevice(lut)
    chk, dev = data["checks"], data["RealDevice"]
    assert dev["sigmaCtoC"] < 0.5 * chk["sigmaCtoC_lut_median_S"]
    assert max(chk["ltp_shortfall_of_range"], chk["ltd_shortfall_of_range"]) <= 0.0101


def test_read_noise_is_relative(exported):
    lut, _, data = exported
    dev = data["RealDevice"]
    g_min, g_max = dev["minConductance"], dev["maxConductance"]
    g_rms = math.sqrt((g_max ** 3 - g_min ** 3) / (3 * (g_max - g_min)))
    assert dev["sigmaReadNoise"] * g_rms == pytest.approx(lut.read_noise, rel=1e-12)


def test_v21_update_rule_follows_the_lut(exported):
    """V2.1 wage_quantizer: weight in [-1, 1], B = 2/(1 - exp(-max_level/A)), A = GetParamA(NL) * max_level,
    W(x) adds N(0, 2 c2cVari) once per update; LTP uses the positive label, LTD the negative one."""
    lut, _, data = exported
    t = data["DNN_NeuroSim_V2_1"]["train_py"]
    n = t["max_level"]
    assert t["cellBit"] == t["wl_weight"] == t["wl_grad"] == int(math.log2(n))
    span = data["RealDevice"]["maxConductance"] - data["RealDevice"]["minConductance"]
    assert t["c2cVari"] * span == pytest.approx(data["RealDevice"]["sigmaCtoC"])
    rng = np.random.default_rng(0)
    w = np.full(2000, -1.0)
    traj = [w.mean()]
    for _ in range(n):
        a = nm.table_a_over_pmax(t["nonlinearityLTP"]) * n
        b = 2 / (1 - math.exp(-n / a))
        x = -a * np.log(1 - (w + 1) / b)
        w = np.clip(b * (1 - np.exp(-(x + 1) / a)) - 1 + rng.normal(0, 2 * t["c2cVari"], w.size), -1, 1)
        traj.append(w.mean())
    g = data["RealDevice"]["minConductance"] + (np.array(traj) + 1) / 2 * span
    up = mean_branch(lut, +1)
    for p in (10, 20, 64):
        assert g[p] == pytest.approx(up[p], rel=0.05)


def _fake_v30(root: Path) -> None:
    root.mkdir()
    (root / "Cell.cpp").write_text(
        "#include \"Cell.h\"\nIdealDevice::IdealDevice(int x, int y) {\n\tmaxConductance = 1;\n}\n"
        "RealDevice::RealDevice(int x, int y) {\n\tmaxConductance = 3e-8;\n\tif (nonlinearIV) {\n"
        "\t\tmaxConductance = 1;\n\t}\n\tsigmaCtoC = 0.035 * (maxConductance - minConductance);\n}\n"
        "double RealDevice::Read(double voltage) {\n\treturn voltage * conductance;\n}\n")


def _fake_v21(root: Path) -> None:
    (root / "Training_pytorch" / "NeuroSIM").mkdir(parents=True)
    (root / "Training_pytorch" / "train.py").write_text(
        "args = parser.parse_args()\n" + "".join(f"args.{k} = 1   # {k}\n" for k in (
            "wl_weight", "wl_grad", "cellBit", "max_level", "c2cVari", "d2dVari", "nonlinearityLTP",
            "nonlinearityLTD")) + "gamma = 0.9\n")
    # V2.1's Param.cpp has CRLF line endings (checked at commit 18289cb); inference.py overwrites --onoffratio
    param = ("Param::Param() {\n" + "".join(f"\t{k} = 7;    // {k}\n" for k in (
        "memcelltype", "accesstype", "cellBit", "resistanceOn", "resistanceOff")) +
        "\tmaxConductance = (double) 1/resistanceOn;\n" + "".join(f"\t{k} = 7;\n" for k in (
            "maxNumLevelLTP", "maxNumLevelLTD", "writeVoltage", "writePulseWidth", "readVoltage",
            "readPulseWidth")) + "\tif (memcelltype == 1) {\n\t\tcellBit = 1;\n\t}\n}")  # no final newline
    (root / "Training_pytorch" / "NeuroSIM" / "Param.cpp").write_bytes(param.replace("\n", "\r\n").encode())
    (root / "Training_pytorch" / "inference.py").write_text(
        "args = parser.parse_args()\nargs.cellBit = 4\nargs.onoffratio = 10          # on/off\n")


@pytest.mark.skipif(PATCH is None, reason="patch not installed")
@pytest.mark.parametrize("make", [_fake_v30, _fake_v21])
def test_patch_applies_with_patch_p1(exported, tmp_path, make):
    lut, _, data = exported
    src = tmp_path / "neurosim"
    make(src)
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    files = ns.write_neurosim(lut, tmp_path / "out", source=src)
    assert {p: p.read_bytes() for p in before} == before  # the checkout itself is not touched
    subprocess.run([PATCH, "-p1", "-i", str(files[-1])], cwd=src, check=True, capture_output=True)
    if make is _fake_v30:
        cell = (src / "Cell.cpp").read_text()
        assert cell.count("RealDevice::RealDevice(int x, int y)") == 1 and "3e-8" not in cell
        assert "IdealDevice::IdealDevice" in cell and "double RealDevice::Read" in cell
        assert f"NL_LTP = {data['RealDevice']['NL_LTP']!r};" in cell
    else:
        train = (src / "Training_pytorch" / "train.py").read_text()
        compile(train, "train.py", "exec")  # still Python
        assert f"args.max_level = {data['DNN_NeuroSim_V2_1']['train_py']['max_level']}   # max_level" in train
        raw = (src / "Training_pytorch" / "NeuroSIM" / "Param.cpp").read_bytes().decode()
        assert raw.count("\r\n") == raw.count("\n") > 10  # still CRLF throughout
        assert "\tcellBit = 1;" in raw and raw.count("= 7;") == 0 and raw.endswith("}")
        infer = (src / "Training_pytorch" / "inference.py").read_text()
        onoff = data["DNN_NeuroSim_V2_1"]["train_py"]["onoffratio"]
        assert f"args.onoffratio = {onoff!r}" in infer and "args.cellBit = 4" in infer


def test_unknown_checkout_is_a_clear_error(exported, tmp_path):
    lut, _, _ = exported
    with pytest.raises(DataError, match="neither MLP\\+NeuroSim V3.0"):
        ns.write_neurosim(lut, tmp_path / "out", source=tmp_path)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_cli_bad_checkout_exits_2(tmp_path, capsys):
    from fefet_spice.cli import main

    assert main(["export-lut", str(LUT), "--format", "neurosim", "-o", str(tmp_path / "o"),
                 "--neurosim-source", str(tmp_path)]) == 2
    assert "neither MLP+NeuroSim V3.0" in capsys.readouterr().err
