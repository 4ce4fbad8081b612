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
