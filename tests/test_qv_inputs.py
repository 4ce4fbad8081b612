"""Careless inputs on the capacitor (Q-V) path: refused before any work with one sentence naming the file
(run --qv, fit --qv, predict), messages that quote at most a bounded, escaped piece of a field, and a
prediction that misses by more than the Q range failing loudly instead of exit 0."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fefet_spice import api, presets
from fefet_spice.cli import main
from fefet_spice.errors import DataError, ParamError, describe, shown
from fefet_spice.params import FerroParams
from fefet_spice.readers import qv

ROOT = Path(__file__).resolve().parents[1]
FE = FerroParams(n_domains=16, ps=0.17, ea_up=2.2, ea_dn=2.0, ea_sigma=0.6, ea_corr=0.3, v_imp=0.1,
                 alpha=2.8, beta=1.0, tau0=3e-7, eps_r=55.0)


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err[:2000]
    return lines[0]


def _trace(n=300, seed=1):
    from fefet_spice.generator.mfm import mfm_traces

    return mfm_traces(replace(FE, n_domains=64), rates=(5e4,), n_samples=n, rng=seed)[0]


def _csv(path: Path, t, v, q, unit="C/cm2") -> Path:
    """A plain t, V, Q table (Q given in C/m^2, written in ``unit``; no unit in the header when ``unit`` is
    C/cm2, as instrument exports)."""
    scale = {"C/cm2": 1e-4, "uC/cm2": 100.0}[unit]
    head = "t,V,Q" if unit == "C/cm2" else f"t [s],V [V],Q [{unit}]"
    rows = "\n".join(f"{a:.10g},{b:.8g},{c * scale:.8g}" for a, b, c in zip(t, v, q))
    path.write_text(f"{head}\n{rows}\n")
    return path


@pytest.fixture(scope="module")
def capfit(tmp_path_factory):
    """A capacitor fit file of a synthetic trace (few evaluations: fast, good enough to predict it)."""
    folder = tmp_path_factory.mktemp("capfit")
    tr = _trace()
    fit = api.fit_capacitor([tr], presets.get("weight"), name="cap", max_nfev=40, refits=False)
    fit.save(folder / "cap.json", plots=False)
    return folder / "cap.json", tr


# --- 1. run --qv reads and checks every file before any stage -----------------------------------------------

def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    tr = _trace(60)
    flat = np.zeros(len(tr))
    return {
        "header only": (tmp_path / "header.csv", "at least 2 samples"),
        "two rows": (tmp_path / "two.csv", "at least 20"),
        "NaN": (tmp_path / "nan.csv", "non-finite"),
        "binary": (tmp_path / "bin.csv", "not a UTF-8 text file"),
        "constant V": (_csv(tmp_path / "constV.csv", tr.t, flat + 1.0, tr.q), "voltage does not vary"),
        "constant Q": (_csv(tmp_path / "constQ.csv", tr.t, tr.v, flat + tr.q[0]), "charge does not vary"),
    }


def _write_bad(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    files = _bad_files(tmp_path)
    files["header only"][0].write_text("t,V,Q\n")
    files["two rows"][0].write_text("t,V,Q\n0,3,3.2e-5\n1e-7,2.9,3.1e-5\n")
    files["NaN"][0].write_text("t,V,Q\n0,3,3.2e-5\n1e-7,2.9,nan\n2e-7,2.8,3e-5\n")
    files["binary"][0].write_bytes(bytes(range(256)) * 20)
    return files


@pytest.mark.parametrize("what", ["header only", "two rows", "NaN", "binary", "constant V", "constant Q"])
def test_run_qv_refuses_a_bad_file_before_any_stage(tmp_path, capsys, what):
    path, phrase = _write_bad(tmp_path)[what]
    out = tmp_path / "out"
    t0 = time.monotonic()
    code = main(["run", "--quick", "--qv", str(path), "--measurements", str(ROOT / "measurements"), "-o", str(out)])
    took = time.monotonic() - t0
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and path.name in line and phrase in line, line
    assert took < 10, took  # the pipeline (about 20 s of fit, characterize, training) never started
    assert not (out / "fit").exists() and not (out / "model").exists() and not (out / "summary.json").exists()


def test_run_qv_checks_the_predicted_files_too(tmp_path, capsys):
    good = qv.write(tmp_path / "good.csv", _trace(200))
    bad = _write_bad(tmp_path)["constant Q"][0]
    out = tmp_path / "out"
    assert main(["run", "--quick", "--qv", str(good), str(bad), "--measurements", str(ROOT / "measurements"),
                 "-o", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "constQ.csv" in line and "no Q range to measure a prediction against" in line
    assert not (out / "fit").exists()


# --- 2. traces a Q-V fit cannot use: one sentence before the fit, no numpy warning -------------------------

@pytest.mark.parametrize("what, v, phrase", [
    ("zero V", lambda v: 0 * v, "voltage does not vary (every sample is 0 V)"),
    ("constant V", lambda v: 0 * v + 1.0, "voltage does not vary (every sample is 1 V)"),
    ("tiny V", lambda v: 1e-6 * v, "spans only 5.99e-06 V"),
    ("V 100x too small", lambda v: 1e-2 * v, "too little for a Q-V loop"),
])
def test_fit_qv_refuses_a_trace_whose_voltage_does_not_sweep(tmp_path, capsys, what, v, phrase):
    tr = _trace(200)
    path = _csv(tmp_path / "x.csv", tr.t, v(tr.v), tr.q)
    out = tmp_path / "fit.json"
    assert main(["fit", "--qv", str(path), "-o", str(out), "--no-plots"]) == 2
    cap = capsys.readouterr()
    line = _one_line(cap.err)
    assert "x.csv" in line and phrase in line, line
    assert "[fit] start" not in cap.out and not out.exists()  # refused before the fit


def test_fit_qv_refuses_a_constant_charge_and_a_flat_fitted_part(tmp_path):
    tr = _trace(200)
    with pytest.raises(DataError, match="charge does not vary"):
        api.fit_capacitor([qv.QVTrace(tr.t, tr.v, np.full(len(tr), 0.2), "q.csv")], max_nfev=5, refits=False)
    held = qv.QVTrace(tr.t, np.where(np.arange(len(tr)) < 120, 0.0, tr.v), tr.q, "hold.csv")
    with pytest.raises(DataError, match="every fitted sample is 0 V"):  # the fitted first half never sweeps
        api.fit_capacitor([held], holdout=0.5, max_nfev=5, refits=False)


def test_fit_qv_zero_voltage_prints_one_line_and_no_numpy_warning(tmp_path):
    tr = _trace(100)
    path = _csv(tmp_path / "zeroV.csv", tr.t, 0 * tr.v, tr.q)
    proc = subprocess.run([sys.executable, "-m", "fefet_spice.cli", "fit", "--qv", str(path), "-o",
                           str(tmp_path / "o.json")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    line = _one_line(proc.stderr)  # no RuntimeWarning / RankWarning lines, no LAPACK noise
    assert "zeroV.csv" in line and "voltage does not vary" in line and "internal error" not in line


def test_borderline_traces_fit_without_warnings():
    """Just inside the checks (warnings are errors here): a voltage that spans the least accepted range, one
    voltage spike, two levels; none may reach numpy's least squares with a singular problem."""
    t = np.linspace(0, 1e-4, 300)
    k = np.arange(len(t))
    q = 0.2 * np.tanh(3 * np.sin(2 * np.pi * t / 1e-4)) + 0.01
    for v in (0.0505 * np.sin(2 * np.pi * t / 1e-4), np.where(k == 150, 3.0, 0.0), np.where(k < 150, -3.0, 3.0)):
        fit = api.fit_capacitor([qv.QVTrace(t, v, q, "edge.csv")], max_nfev=5, refits=False, min_r2=-1e9)
        assert np.isfinite(fit.document["metrics"]["qv"][0]["nrmse"])


# --- 3. messages quote a bounded, escaped piece of a field ----------------------------------------------

def test_shown_bounds_and_escapes():
    assert shown("abc") == "'abc'"
    s = shown("x" * 10**6)
    assert len(s) < 70 and s.endswith("…")
    assert "\x00" not in shown("\x00" * 1000) and "\\x00" in shown("\x00" * 1000)
    text, code = describe(DataError("f.csv: " + "\x00" * 5000 + "y" * 10**6))
    assert code == 2 and len(text) <= 1001 and "\x00" not in text


@pytest.mark.parametrize("content", [
    b"t,V," + b"x" * 2**20,  # a 1 MB single line without a newline
    b"\x00" * 1000,  # NUL bytes
    b"t,V,Q\n0,1," + b"9" * 2**20 + b"\n",  # a 1 MB number (overflows to inf)
    b"t,V,Q\n0,1,\x00\x01\x02" + b"z" * 5000 + b"\n",  # control bytes in a cell
    b"t,V,Q [" + b"\x07" * 3000 + b"]\n0,1,2\n1,2,3\n",  # a unit full of control bytes
])
def test_reader_messages_stay_short(tmp_path, capsys, content):
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    assert main(["fit", "--qv", str(path), "-o", str(tmp_path / "o.json")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert len(line) < 300 and "big.csv" in line, line[:400]
    assert line.isprintable(), repr(line[:300])


def test_measurement_reader_messages_stay_short(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text("# fefet-measurement: 1\n# kind: idvg\nvg [V],id [A]\n0," + "\x01" * 3000 + "q" * 10**6 + "\n")
    assert main(["fit", str(path), "-o", str(tmp_path / "o.json")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert len(line) < 300 and "m.csv" in line and line.isprintable(), line[:400]
    path.write_text("# fefet-measurement: 1\n# kind: " + "k" * 10**5 + "\nvg [V],id [A]\n0,1\n")
    assert main(["fit", str(path), "-o", str(tmp_path / "o.json")]) == 2
    assert len(_one_line(capsys.readouterr().err)) < 300


# --- 4. predict: refuse a constant charge, fail loudly beyond the Q range, note a FeFET parameter file ------

def test_predict_refuses_a_constant_charge(tmp_path, capsys, capfit):
    fit_file, tr = capfit
    path = _csv(tmp_path / "constQ.csv", tr.t, tr.v, np.full(len(tr), tr.q[0]))
    js = tmp_path / "p.json"
    assert main(["predict", "--params", str(fit_file), "--qv", str(path), "--json", str(js)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "constQ.csv" in line and "charge does not vary" in line and not js.exists()


def test_predict_fails_loudly_beyond_the_q_range(tmp_path, capsys, capfit):
    fit_file, tr = capfit
    path = _csv(tmp_path / "c.csv", tr.t, tr.v, tr.q)  # Q in C/cm^2 without a unit in the header
    js = tmp_path / "p.json"
    assert main(["predict", "--params", str(fit_file), "--qv", str(path), "--q-unit", "C/cm2", "--json",
                 str(js)]) == 0
    assert json.loads(js.read_text())["metrics"]["nrmse"] < 0.05
    js.unlink()
    assert main(["predict", "--params", str(fit_file), "--qv", str(path), "--q-unit", "mC/cm2", "--json",
                 str(js)]) == 2  # every charge 1000x too small: the prediction misses by ~1000x the range
    line = _one_line(capsys.readouterr().err)
    assert "c.csv" in line and "misses by" in line and "--q-unit" in line and "--max-nrmse" in line, line
    assert not js.exists()
    assert main(["predict", "--params", str(fit_file), "--qv", str(path), "--q-unit", "mC/cm2", "--json",
                 str(js), "--max-nrmse", "1e6"]) == 0  # accepted on request, and written
    assert json.loads(js.read_text())["metrics"]["nrmse"] > 1.0


def test_predict_max_nrmse_api(capfit):
    fit_file, tr = capfit
    pred = api.predict_capacitor(fit_file, [tr])
    nrmse = pred.metrics[0]["nrmse"]
    with pytest.raises(DataError, match="misses by"):
        api.predict_capacitor(fit_file, [tr], max_nrmse=0.5 * nrmse)
    assert api.predict_capacitor(fit_file, [tr], max_nrmse=None).metrics[0]["nrmse"] == nrmse
    for bad in (0.0, -1.0, float("nan"), "1"):
        with pytest.raises(ParamError, match="--max-nrmse"):
            api.predict_capacitor(fit_file, [tr], max_nrmse=bad)


def test_predict_notes_a_parameter_file_that_is_not_a_capacitor_fit(tmp_path, capsys, capfit):
    fit_file, tr = capfit
    path = qv.write(tmp_path / "t.csv", tr)
    js = tmp_path / "p.json"
    fefet_fit = ROOT / "fits" / "weight_ref.json"
    assert main(["predict", "--params", str(fefet_fit), "--qv", str(path), "--json", str(js),
                 "--max-nrmse", "1e6"]) == 0
    out = capsys.readouterr().out
    assert "note: " in out and "is not a capacitor fit" in out
    assert any("is not a capacitor fit" in n for n in json.loads(js.read_text())["notes"])
    assert main(["predict", "--params", str(fit_file), "--qv", str(path)]) == 0
    assert "not a capacitor fit" not in capsys.readouterr().out


def test_a_trace_beyond_the_sample_limit_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    from fefet_spice.errors import LimitError
    from fefet_spice.readers import qv

    monkeypatch.setattr(qv, "MAX_SAMPLES", 50)
    f = tmp_path / "long.csv"
    f.write_text("t [s],V [V],Q [uC/cm2]\n" + "".join(f"{i}e-6,{i % 7},{i % 5 + 1}\n" for i in range(51)))
    with pytest.raises(LimitError, match="51 samples"):
        qv.read(f)
    f.write_text("t [s],V [V],Q [uC/cm2]\n# a comment\n" + "".join(f"{i}e-6,{i % 7},{i % 5 + 1}\n" for i in range(50)))
    assert len(qv.read(f)) == 50
