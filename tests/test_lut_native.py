"""Native fefet-synapse-lut/1 folders: lossless round trip, schema, and clear rejection of bad files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fefet_spice.errors import DataError
from fefet_spice.lut import from_neurosim
from fefet_spice.lut.native import complete_meta, load_lut, save_lut
from fefet_spice.lut.validate import load_schema


@pytest.fixture()
def lut():
    base = from_neurosim(1e-7, 6e-6, a_ltp=20.0, a_ltd=15.0, p_max=48, sigma_c2c=0.004,
                         read_noise=1.7e-8, n_traj=12, rng=3, n_g=40)
    meta = dict(base.meta, masked_ratio=0.0012,
                provenance={"params_sha256": "ab" * 32, "netlist": None, "simulator": "test",
                            "simulator_version": "0", "seed": 3})
    return complete_meta(type(base)(**{**base.__dict__, "meta": meta}))


def _assert_same(a, b):
    for name in ("g_grid", "dg_mean", "dg_std", "quantile_levels", "dg_quantiles", "trajectories"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype
        assert np.array_equal(x, y, equal_nan=True), name
    assert (a.g_min, a.g_max, a.read_noise, a.kinds) == (b.g_min, b.g_max, b.read_noise, b.kinds)
    assert a.meta == b.meta


def test_round_trip_is_lossless(tmp_path, lut):
    back = load_lut(save_lut(tmp_path / "x", lut))
    _assert_same(lut, back)
    # and a second save of what was read gives byte-identical files
    save_lut(tmp_path / "y", back)
    for name in ("lut.npz", "lut.json"):
        assert (tmp_path / "x" / name).read_bytes() == (tmp_path / "y" / name).read_bytes()


def test_sidecar_has_required_fields(tmp_path, lut):
    side = json.loads((save_lut(tmp_path / "x", lut) / "lut.json").read_text())
    for key in load_schema()["required"]:
        assert key in side
    assert side["schema"] == "fefet-synapse-lut/1"
    assert set(side["levels"]) >= {"up", "down"} and side["levels"]["up"] >= 16
    assert set(side["provenance"]) >= {"params_sha256", "netlist", "simulator", "simulator_version", "seed"}


def test_bare_lut_gets_levels_and_provenance(tmp_path):
    bare = from_neurosim(1e-7, 6e-6, 20.0, 15.0, 32, rng=0, n_g=16)
    back = load_lut(save_lut(tmp_path / "b", bare))
    assert back.meta["masked_ratio"] is None
    assert back.meta["levels"]["up"] > 1 and back.meta["provenance"]["simulator"] == "neurosim-form"


def test_truncated_npz_is_rejected_naming_the_file(tmp_path, lut):
    folder = save_lut(tmp_path / "x", lut)
    blob = (folder / "lut.npz").read_bytes()
    (folder / "lut.npz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"lut\.npz.*(corrupted|truncated)"):
        load_lut(folder)


def test_truncated_sidecar_is_rejected(tmp_path, lut):
    folder = save_lut(tmp_path / "x", lut)
    text = (folder / "lut.json").read_text()
    (folder / "lut.json").write_text(text[: len(text) // 2])
    with pytest.raises(DataError, match=r"lut\.json: line \d+: not valid JSON"):
        load_lut(folder)


@pytest.mark.parametrize("field, value, message", [
    ("g_max", "high", r"g_max: expected number"),
    ("masked_ratio", -0.5, r"masked_ratio: must be >= 0"),
    ("levels", {"up": 3}, r"levels\.down: required field is missing"),
    ("kinds", [{"polarity": 2, "amplitude": 1.0, "width": 1e-6}], r"kinds\[0\]\.polarity: must be one of"),
    ("provenance", {"seed": 1}, r"provenance\.params_sha256: required field is missing"),
])
def test_bad_sidecar_field_is_named(tmp_path, lut, field, value, message):
    folder = save_lut(tmp_path / "x", lut)
    side = json.loads((folder / "lut.json").read_text())
    side[field] = value
    (folder / "lut.json").write_text(json.dumps(side))
    with pytest.raises(DataError, match=r"lut\.json: " + message):
        load_lut(folder)


def test_missing_field_is_named(tmp_path, lut):
    folder = save_lut(tmp_path / "x", lut)
    side = json.loads((folder / "lut.json").read_text())
    del side["g_min"]
    (folder / "lut.json").write_text(json.dumps(side))
    with pytest.raises(DataError, match=r"lut\.json: g_min: required field is missing"):
        load_lut(folder)


def _rewrite_npz(folder, **changes):
    """Replace arrays and re-sign the sidecar, so only the array validator can catch the damage."""
    import hashlib
    import io

    with np.load(folder / "lut.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (folder / "lut.npz").write_bytes(buf.getvalue())
    side = json.loads((folder / "lut.json").read_text())
    side["npz_sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
    (folder / "lut.json").write_text(json.dumps(side))


@pytest.mark.parametrize("mutate, message", [
    (lambda a: {"dg_mean": a["dg_mean"][:, :-3]}, r"dg_mean: shape"),
    (lambda a: {"g_grid": a["g_grid"] * np.linspace(1, 1.01, a["g_grid"].size)}, r"g_grid: not a uniform"),
    (lambda a: {"dg_quantiles": a["dg_quantiles"][:, ::-1]}, r"dg_quantiles: not monotone"),
    (lambda a: {"dg_std": np.where(np.arange(a["dg_std"].shape[1]) == 2, np.nan, a["dg_std"])}, r"dg_std: contains NaN"),
])
def test_corrupted_arrays_are_rejected(tmp_path, lut, mutate, message):
    folder = save_lut(tmp_path / "x", lut)
    with np.load(folder / "lut.npz") as z:
        arrays = {k: z[k] for k in z.files}
    _rewrite_npz(folder, **mutate(arrays))
    with pytest.raises(DataError, match=r"lut\.npz: " + message):
        load_lut(folder)


def test_checksum_mismatch_is_rejected(tmp_path, lut):
    folder = save_lut(tmp_path / "x", lut)
    side = json.loads((folder / "lut.json").read_text())
    side["npz_sha256"] = "0" * 64
    (folder / "lut.json").write_text(json.dumps(side))
    with pytest.raises(DataError, match=r"lut\.npz: contents do not match"):
        load_lut(folder)


def test_schema_is_shipped_as_package_data():
    schema = load_schema()
    assert schema["properties"]["schema"]["const"] == "fefet-synapse-lut/1"
