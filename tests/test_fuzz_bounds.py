"""Fuzz / attack tests, part 4: every input bounded before work (npz headers, counts, ranges), and a
meaningless table or data set refused loudly (contract: ``_fuzz.cli``)."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from _fuzz import ROOT, cli, committed_files_unchanged  # noqa: F401  (autouse fixture)

LUT = ROOT / "luts" / "weight_preset"


def _npy_bytes_declaring(shape, dtype="<f8", data=b"") -> bytes:
    """An .npy member whose header declares ``shape`` but carries only ``data`` (a bomb stand-in)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue() + data


def _lut_copy(tmp_path: Path, arrays: dict | None = None, raw: dict | None = None) -> Path:
    """A copy of the preset LUT with ``arrays`` replaced (``raw``: members written as given bytes)."""
    out = tmp_path / "lut"
    out.mkdir()
    with np.load(LUT / "lut.npz") as z:
        d = {k: z[k] for k in z.files}
    d.update(arrays or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in d.items():
            if name in (raw or {}):
                continue
            b = io.BytesIO()
            np.lib.format.write_array(b, np.asarray(arr))
            zf.writestr(name + ".npy", b.getvalue())
        for name, blob in (raw or {}).items():
            zf.writestr(name + ".npy", blob)
    (out / "lut.npz").write_bytes(buf.getvalue())
    side = json.loads((LUT / "lut.json").read_text())
    side["npz_sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
    (out / "lut.json").write_text(json.dumps(side))
    return out


# --- 1. lut.npz: shapes bounded from the headers; steps must move G their way ----------------------------

def test_lut_npz_bomb_is_refused_from_its_header(tmp_path):
    lut = _lut_copy(tmp_path, raw={"trajectories": _npy_bytes_declaring((2, 1, 62_500_000))})
    rc, _, msg = cli("export-lut", lut, "--format", "native", "-o", tmp_path / "o")
    assert rc == 2 and "lut.npz" in msg and "trajectories" in msg and "at most" in msg
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("fmt", ["native", "neurosim", "crosssim"])
@pytest.mark.parametrize("how", ["zero", "wrong-sign"])
def test_lut_with_meaningless_steps_is_refused(tmp_path, fmt, how):
    with np.load(LUT / "lut.npz") as z:
        dg = z["dg_mean"]
    lut = _lut_copy(tmp_path, {"dg_mean": np.zeros_like(dg) if how == "zero" else -dg})
    rc, _, msg = cli("export-lut", lut, "--format", fmt, "-o", tmp_path / "o")
    assert rc == 2 and "dg_mean" in msg and "lut.npz" in msg


def test_lut_copy_helper_makes_a_valid_lut(tmp_path):
    assert cli("export-lut", _lut_copy(tmp_path), "--format", "native", "-o", tmp_path / "o")[0] == 0


def test_committed_luts_still_load():
    from fefet_spice.lut.native import load_lut

    for side in sorted((ROOT / "luts").rglob("lut.json")):
        assert load_lut(side).g_grid.size >= 2


# --- 2. image .npz: headers checked before loading; labels must match the images --------------------------

def _images_npz(path: Path, raw: dict | None = None, **arrays) -> Path:
    """An image .npz (60 images of classes 2..7) with ``arrays`` replaced and ``raw`` members as bytes."""
    y = np.repeat(np.arange(2, 8), 10)
    rng = np.random.default_rng(0)
    d = {"x_train": rng.random((60, 20, 20)), "y_train": y, "x_test": rng.random((60, 20, 20)), "y_test": y}
    d.update(arrays)
    with zipfile.ZipFile(path, "w") as zf:
        for name, arr in d.items():
            if name not in (raw or {}):
                b = io.BytesIO()
                np.lib.format.write_array(b, np.asarray(arr))
                zf.writestr(name + ".npy", b.getvalue())
        for name, blob in (raw or {}).items():
            zf.writestr(name + ".npy", blob)
    return path


TRAIN = ("--classes", "2,3,4,5,6", "--n-train", "5", "--n-test", "5", "--epochs", "11", "--quiet")


@pytest.mark.parametrize("shape, word", [((100, 2000, 2000), "pixels"), ((2_000_000, 28, 28), "images")])
def test_train_npz_too_large_is_refused_from_headers(tmp_path, shape, word):
    f = _images_npz(tmp_path / "big.npz", raw={"x_train": _npy_bytes_declaring(shape, "|u1")})
    rc, _, msg = cli("train", "--dataset", f"npz:{f}", *TRAIN, limit_s=10)
    assert rc == 2 and str(f) in msg and "x_train" in msg and word in msg


def test_train_npz_labels_not_matching_images_are_refused(tmp_path):
    f = _images_npz(tmp_path / "mism.npz", y_train=np.repeat(np.arange(2, 8), 5))
    rc, _, msg = cli("train", "--dataset", f"npz:{f}", *TRAIN, limit_s=10)
    assert rc == 2 and str(f) in msg and "y_train" in msg and "one label per image" in msg


def test_train_npz_fractional_labels_are_refused(tmp_path):
    y = np.repeat(np.arange(2, 8), 10).astype(float)
    y[3] = 0.5
    f = _images_npz(tmp_path / "half.npz", y_test=y)
    rc, _, msg = cli("train", "--dataset", f"npz:{f}", *TRAIN, limit_s=10)
    assert rc == 2 and str(f) in msg and "y_test" in msg and "0.5" in msg


def test_train_npz_whole_float_labels_still_train(tmp_path):
    from fefet_spice.train.data import load

    y = np.repeat(np.arange(2, 8), 10).astype(float)
    ds = load(f"npz:{_images_npz(tmp_path / 'ok.npz', y_train=y)}", classes=(2, 3, 4, 5, 6), n_train=5, n_test=5)
    assert ds.x_train.shape == (25, 20, 20) and set(ds.y_train.tolist()) == set(range(5))


# --- 3. run: the data set is read and checked before any stage --------------------------------------------

@pytest.mark.parametrize("how", ["labels", "too-few"])
def test_run_refuses_a_bad_dataset_before_any_stage(tmp_path, how):
    f = (_images_npz(tmp_path / "mism.npz", y_train=np.repeat(np.arange(2, 8), 5)) if how == "labels"
         else _images_npz(tmp_path / "few.npz"))  # 10 images per class, run's training stage needs 50
    out = tmp_path / "o"
    rc, _, msg = cli("run", "--quick", "--measurements", ROOT / "measurements", "--dataset", f"npz:{f}", "-o", out,
                     limit_s=10)
    assert rc == 2 and str(f) in msg and ("y_train" in msg if how == "labels" else "class 2" in msg)
    assert not out.exists()


# --- 4. schemes --widths: bounded count, no duplicates ----------------------------------------------------

@pytest.mark.parametrize("widths, words", [(",".join(f"{i}n" for i in range(1, 3000)), ("2999 widths", "16")),
                                           ("10n,100n,1e-8", ("'1e-8'", "'10n'", "same width"))])
def test_schemes_widths_bounded_and_distinct(tmp_path, widths, words):
    rc, _, msg = cli("schemes", "--widths", widths, "-o", tmp_path / "o", limit_s=10)
    assert rc == 2 and "--widths" in msg and all(w in msg for w in words), msg
    assert not (tmp_path / "o").exists()


def test_schemes_parse_widths_keeps_distinct_widths():
    from fefet_spice.commands.schemes import parse_widths

    assert parse_widths("10n,100n,1u") == pytest.approx([1e-8, 1e-7, 1e-6])


# --- 5. fit: number of measurement files, lines and line length bounded before parsing ---------------------

def test_fit_refuses_a_folder_of_too_many_files(tmp_path):
    from fefet_spice.readers.base import MAX_MEASUREMENT_FILES

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(MAX_MEASUREMENT_FILES + 1):
        (folder / f"f{i:05d}.csv").write_text("bad")  # never read: counted first
    rc, _, msg = cli("fit", folder, "-o", tmp_path / "o", limit_s=10)
    assert rc == 2 and str(folder) in msg and "1,000" in msg


def test_fit_refuses_too_many_files_given_one_by_one(tmp_path):
    from fefet_spice.readers.base import MAX_MEASUREMENT_FILES

    f = tmp_path / "a.csv"
    f.write_text("bad")
    rc, _, msg = cli("fit", *[f] * (MAX_MEASUREMENT_FILES + 1), "-o", tmp_path / "o", limit_s=10)
    assert rc == 2 and "1,000" in msg and "measurement files" in msg


@pytest.mark.parametrize("text, words", [("vg,id\n" + "0,1e-9\n" * 100_000, ("100,001 lines", "100,000")),
                                         ("vg,id\n0,1e-9\n" + "1," * 6000 + "1\n", ("line 3", "12,001 characters"))])
def test_fit_refuses_a_file_too_long_or_too_wide_before_parsing(tmp_path, text, words):
    f = tmp_path / "m.csv"
    f.write_text(text)
    rc, _, msg = cli("fit", f, "--kind", "idvg", "--x-unit", "V", "--y-unit", "A", "-o", tmp_path / "o", limit_s=10)
    assert rc == 2 and str(f) in msg and all(w in msg for w in words), msg


def test_fit_refuses_a_measurement_file_beyond_16_mib(tmp_path):
    f = tmp_path / "big.csv"
    with open(f, "wb") as fh:
        fh.truncate(17 * 1024 * 1024)  # sparse: refused from its size, never read
    rc, _, msg = cli("fit", f, "-o", tmp_path / "o", limit_s=10)
    assert rc == 2 and str(f) in msg and "16 MiB" in msg


def test_committed_measurements_still_read():
    from fefet_spice.api import read_measurements

    files, ms = read_measurements([ROOT / "measurements" / "weight", ROOT / "measurements" / "sparsity"])
    assert len(files) >= 30 and len(ms) >= len(files)


# --- 6. cost --set: every field within a physically meaningful range, named ---------------------------------

@pytest.mark.parametrize("kv, name", [("clock_hz=1e-300", "clock_hz"), ("pulse_gap_s=1e300", "pulse_gap_s"),
                                      ("wire_activity=5", "wire_activity"), ("block_rows=1000", "block_rows"),
                                      ("chip_bus_bits=1e26", "chip_bus_bits"), ("vdd=1e308", "vdd"),
                                      ("vdd=nan", "vdd"), ("adc_bits=2.5", "adc_bits"), ("array_rows=4", "block_rows")])
def test_cost_set_out_of_range_is_refused_naming_the_field(tmp_path, kv, name):
    rc, _, msg = cli("cost", "--network", "msnet", "--set", kv, "--json", tmp_path / "c.json", limit_s=20)
    assert rc == 2 and name in msg
    assert not (tmp_path / "c.json").exists()


def test_cost_set_within_bounds_still_works(tmp_path):
    rc, _, _ = cli("cost", "--network", "msnet", "--set", "chip_bus_bits=1e3", "--set", "wire_activity=1",
                   "--json", tmp_path / "c.json", limit_s=30)
    assert rc == 0 and json.loads((tmp_path / "c.json").read_text())["designs"]


def test_arch_defaults_are_within_their_bounds():
    from dataclasses import fields

    from fefet_spice.cost.params import ARCH_BOUNDS, ArchParams, check_arch_bounds

    assert set(ARCH_BOUNDS) == {f.name for f in fields(ArchParams)}
    check_arch_bounds(ArchParams())


# --- 7. simulate: the terminal line never shows a negative conductance or an unexplained missing window -----

def test_simulate_pulses_never_prints_a_negative_conductance():
    rc, out, _ = cli("simulate", "--waveform", "pulses", limit_s=30)
    g_min = out.split("g_min=", 1)[1].split(" ", 1)[0].rstrip(",")
    assert rc == 0 and float(g_min) >= 0 and "clipped at 0 S" in out


def test_simulate_dc_says_why_there_is_no_window():
    rc, out, _ = cli("simulate", "--vd", "-5", "--waveform", "dc", limit_s=30)
    assert rc == 0 and "memory_window_v=None (no window" in out and "vd < 0" in out


def test_emnist_idx_size_is_bounded_from_its_header(tmp_path):
    import gzip

    from fefet_spice.train.data import MAX_ARRAY_BYTES

    for split in ("train", "test"):
        for part, dims in (("images-idx3", (1_000_000, 2000, 2000)), ("labels-idx1", (10,))):
            with gzip.open(tmp_path / f"emnist-letters-{split}-{part}-ubyte.gz", "wb") as f:
                f.write(b"\0\0\x08" + bytes([len(dims)]) + b"".join(n.to_bytes(4, "big") for n in dims))
    rc, _, msg = cli("train", "--dataset", f"emnist:{tmp_path}", "--n-train", "5", "--n-test", "5", "--epochs", "11",
                     "--quiet", limit_s=10)
    assert rc == 2 and "images-idx3" in msg and f"{MAX_ARRAY_BYTES // 2**20} MiB" in msg
