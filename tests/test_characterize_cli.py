"""The characterize and export-lut commands end to end (small Monte Carlo, numpy backend)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fefet_spice.cli import main
from fefet_spice.lut.export_crosssim import read_crosssim
from fefet_spice.lut.native import load_lut


@pytest.fixture(scope="module")
def lut_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("char") / "w"
    rc = main(["characterize", "--preset", "weight", "-o", str(out), "--n-devices", "6", "--n-pulses", "48",
               "--n-probe", "4", "--seed", "5", "--serial"])
    assert rc == 0
    return out


def test_characterize_writes_lut_json_and_plots(lut_dir):
    for name in ("lut.npz", "lut.json", "characterization.json", "g_vs_pulse.png", "dg_vs_g.png"):
        assert (lut_dir / name).is_file()
    assert not (lut_dir / ".cache").exists()  # removed after a successful run
    summary = json.loads((lut_dir / "characterization.json").read_text())
    assert summary["levels"]["up"] >= 16 and summary["masked_ratio"] < 0.01
    assert summary["provenance"]["params_file"] == "preset:weight"
    lut = load_lut(lut_dir)
    assert lut.meta["provenance"]["seed"] == 5 and lut.dg_quantiles.shape[1] == 21


@pytest.mark.parametrize("fmt, files", [
    ("native", ["lut.npz", "lut.json"]),
    ("aihwkit", ["aihwkit_piecewise_step.json"]),
    ("neurosim", ["neurosim_realdevice.json", "neurosim_realdevice_constructor.cpp", "neurosim_v21.txt"]),
    ("crosssim", ["dG_increasing.txt", "dG_decreasing.txt"]),
])
def test_export_lut_formats(lut_dir, tmp_path, fmt, files):
    out = tmp_path / fmt
    assert main(["export-lut", str(lut_dir), "--format", fmt, "-o", str(out)]) == 0
    for name in files:
        assert (out / name).is_file()
    assert json.loads((out / f"export_{fmt}.json").read_text())["files"] == files
    if fmt == "crosssim":
        lut = load_lut(lut_dir)
        g, cdf, mat = read_crosssim(out / "dG_decreasing.txt")
        assert np.array_equal(mat, lut.dg_quantiles[1]) and np.array_equal(g, lut.g_grid)


def test_export_of_a_damaged_lut_is_a_clear_error(lut_dir, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "lut.json").write_text((lut_dir / "lut.json").read_text()[:100])
    assert main(["export-lut", str(bad), "--format", "aihwkit"]) == 2
    assert "lut.json: line" in capsys.readouterr().err


def test_ngspice_backend_flag_is_accepted_by_the_parser():
    from fefet_spice.cli import build_parser

    args = build_parser().parse_args(["characterize", "--params", "fits/x.json", "-o", "o", "--backend", "ngspice",
                                      "--scheduler", "tcp://127.0.0.1:8786", "--pulse", "3.9,-3.9,1e-6"])
    assert args.backend == "ngspice" and args.pulse == [(3.9, -3.9, 1e-6)]


def test_characterize_on_a_dask_scheduler_matches_serial(lut_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        rc = main(["characterize", "--preset", "weight", "-o", str(out), "--n-devices", "6", "--n-pulses", "48",
                   "--n-probe", "4", "--seed", "5", "--scheduler", cluster.scheduler_address, "--no-plots"])
    assert rc == 0
    assert (out / "lut.npz").read_bytes() == (lut_dir / "lut.npz").read_bytes()


def test_committed_weight_preset_lut():
    from pathlib import Path

    lut = load_lut(Path(__file__).resolve().parents[1] / "luts" / "weight_preset")
    assert lut.meta["levels"]["up"] >= 16 and lut.meta["levels"]["down"] >= 16
    assert lut.meta["masked_ratio"] < 0.01
    assert lut.meta["n_devices"] == 64 and lut.meta["provenance"]["seed"] == 0


def test_committed_preset_lut_regenerates_within_tolerance(tmp_path, artifacts):
    """luts/weight_preset is reproduced by the command in its README: metadata exactly, numbers within the
    tolerance of bench/artifacts.py (rtol 1e-7, atol 1e-7 x the array's range: other machines' BLAS/CPU
    features move the numbers by ~1e-10 relative, a model change by far more than 1e-4)."""
    from pathlib import Path

    from fefet_spice.cli import main as cli_main

    root = Path(__file__).resolve().parents[1]
    art = next(a for a in artifacts.ARTIFACTS if a.path == "luts/weight_preset")
    out = tmp_path / "weight_preset"
    assert cli_main(["characterize", "--preset", "weight", "-o", str(out), "--n-devices", "64", "--seed", "0",
                     "--serial", "--no-plots"]) == 0
    for name in ("lut.npz", "lut.json", "characterization.json"):
        ref, new = root / "luts" / "weight_preset" / name, out / name
        if name == "lut.npz":
            assert artifacts.compare_npz(new, ref, art, name) == []
        else:
            mism = artifacts.compare_json(json.loads(new.read_text()), json.loads(ref.read_text()), art, name,
                                          strip=str(tmp_path) + "/")
            assert mism in ([], ["characterization.json.lut: 'weight_preset', committed 'luts/weight_preset'"]), mism


def test_artifact_comparison_catches_a_real_change(tmp_path, artifacts):
    """The tolerance is not so loose that a real change passes: a 1e-6 relative change of one entry fails,
    a 1e-11 relative change (machine rounding) passes; JSON metadata must match exactly."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "luts" / "weight_preset"
    art = next(a for a in artifacts.ARTIFACTS if a.path == "luts/weight_preset")
    with np.load(root / "lut.npz") as z:
        arrays = {k: z[k] for k in z.files}
    for factor, ok in ((1 + 1e-11, True), (1 + 1e-6, False)):
        changed = dict(arrays, dg_mean=arrays["dg_mean"].copy())
        i = np.unravel_index(np.argmax(np.abs(changed["dg_mean"])), changed["dg_mean"].shape)
        changed["dg_mean"][i] *= factor
        np.savez(tmp_path / "x.npz", **changed)
        assert (artifacts.compare_npz(tmp_path / "x.npz", root / "lut.npz", art, "x") == []) is ok, factor
    meta = json.loads((root / "lut.json").read_text())
    assert artifacts.compare_json(dict(meta, npz_sha256="0" * 64), meta, art, "lut.json") == []
    assert artifacts.compare_json(dict(meta, levels=dict(meta["levels"], up=33)), meta, art, "lut.json") != []
    assert artifacts.compare_json(dict(meta, g_max=meta["g_max"] * (1 + 1e-6)), meta, art, "lut.json") != []


def test_preset_lut_on_another_cpu_path_is_within_tolerance(tmp_path, artifacts):
    """Another machine, emulated: numpy without its AVX-512/AVX2 kernels and OpenBLAS with other kernels give
    a LUT that differs in its last bits but passes the tolerance the committed LUT is checked with."""
    import os
    import platform
    import subprocess
    import sys
    from pathlib import Path

    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    off = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    if platform.machine() not in ("x86_64", "AMD64") or not off:
        pytest.skip("no dispatched numpy CPU kernels to switch off on this machine")
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=" ".join(off), OPENBLAS_CORETYPE="Sandybridge")
    out = tmp_path / "w"
    proc = subprocess.run([sys.executable, "-m", "fefet_spice.cli", "characterize", "--preset", "weight", "-o",
                           str(out), "--n-devices", "64", "--seed", "0", "--serial", "--no-plots"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    art = next(a for a in artifacts.ARTIFACTS if a.path == "luts/weight_preset")
    ref = Path(__file__).resolve().parents[1] / "luts" / "weight_preset"
    assert artifacts.compare_npz(out / "lut.npz", ref / "lut.npz", art, "lut.npz") == []
