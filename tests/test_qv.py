"""Capacitor Q-V traces: reader, charge model (numpy vs DomainEngine and vs ngspice), fit and predict."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from fefet_spice.cli import main
from fefet_spice.errors import DataError
from fefet_spice.model.capacitor import CapacitorParams, capacitor_from_dict, capacitor_to_dict, charge, domain_history
from fefet_spice.params import FerroParams
from fefet_spice.readers import qv

FE = FerroParams(n_domains=16, ps=0.17, ea_up=2.2, ea_dn=2.0, ea_sigma=0.6, ea_corr=0.3, v_imp=0.1,
                 alpha=2.8, beta=1.0, tau0=3e-7, eps_r=55.0)


def _csv(tmp_path, text, name="trace.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reader_units_in_header_and_rounded_clock(tmp_path):
    p = _csv(tmp_path, "time [us],V [V],P [uC/cm2]\n0,3,30\n0.075,2.9,29\n0.075,2.8,28\n0.225,2.7,27\n")
    tr = qv.read(p)
    assert tr.n_nudged == 1 and np.all(np.diff(tr.t) > 0)
    assert tr.t[2] == pytest.approx(0.15e-6) and tr.q[0] == pytest.approx(0.30)


def test_reader_own_csv_roundtrip_and_plain_unit_option(tmp_path):
    from fefet_spice.generator.mfm import generate_mfm, mfm_traces

    files = generate_mfm(tmp_path / "gen", seed=4)
    assert len(qv.read_many([f for f in files if f.suffix == ".csv"])) == 3

    tr = mfm_traces(n_samples=50)[0]
    back = qv.read(qv.write(tmp_path / "own.csv", tr, {"device": "synthetic"}))
    assert np.allclose(back.q, tr.q, rtol=1e-6, atol=1e-9) and np.allclose(back.t, tr.t)
    plain = _csv(tmp_path, "t,V,Q\n0,3,3.2e-5\n1e-6,2,3.0e-5\n")
    assert qv.read(plain, {"q": "C/cm2"}).q[0] == pytest.approx(0.32)
    assert qv.read(plain).q[0] == pytest.approx(0.32)  # magnitude says C/cm2


@pytest.mark.parametrize("text, units, needle", [
    ("t,V,Q\n0,3,3e-5\n1e-6,nan,2e-5\n", {}, "line 3"),
    ("t,V,Q\n0,3,3e-5\n1e-6,2,2e-5\n0.2e-6,1,1e-5\n", {}, "line 4: time goes back"),
    ("t,V,Q\n0,3,3e-5\n", {}, "at least 2 samples"),
    ("t,V,Q\n0,3,3e-5\n1e-6,2,2e-5\n", {"q": "uC/cm2"}, "wrong unit"),
    ("t,V\n0,3\n", {}, "missing Q"),
])
def test_reader_bad_input_names_file_and_line(tmp_path, text, units, needle):
    p = _csv(tmp_path, text)
    with pytest.raises(DataError, match=needle) as e:
        qv.read(p, units)
    assert str(p) in str(e.value)


def test_cli_bad_trace_exit_2_nothing_written(tmp_path, capsys):
    p = _csv(tmp_path, "t,V,Q\n0,3,3e-5\n1e-6,2,2e-5\n2e-6,1,inf\n")
    out = tmp_path / "fit.json"
    assert main(["fit", "--qv", str(p), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "line 4" in err and str(p) in err
    assert not out.exists() and not (tmp_path / "fit_qv.png").exists()


@pytest.mark.parametrize("beta", [1.0, 1.6])
def test_capacitor_history_matches_domain_engine(beta):
    from fefet_spice.model.ferro import domain_activation
    from fefet_spice.model.simulate import DeviceSample, DomainEngine, DomainState

    fp = replace(FE, beta=beta)
    t = np.linspace(0, 2e-4, 400)
    v = 3 * np.cos(2 * np.pi * t / 1.3e-4) * np.exp(-t / 2e-4)
    v[300:] = -1.2  # partial down-switching, interrupted by a weak reversal that switches nothing:
    v[320:330] = 0.2  # the direction and the progress h must carry on across it
    hist = domain_history(fp, t, v, s_init=1.0)
    up, dn = domain_activation(fp)
    eng = DomainEngine(fp, DeviceSample(up[None], dn[None], np.zeros(1)))
    st = DomainState(np.ones((1, fp.n_domains)))
    for k in range(1, len(t)):
        eng.apply(st, 0.5 * (v[k] + v[k - 1]), t[k] - t[k - 1])
        assert np.allclose(hist[k], st.s[0], atol=1e-12)
    assert np.ptp(hist.mean(axis=1)) > 1.0  # the waveform really switches


def test_capacitor_params_json_roundtrip():
    cp = CapacitorParams(g_leak=3.0, q_offset=-0.01, p_init=-1.0)
    assert capacitor_from_dict(json.loads(json.dumps(capacitor_to_dict(cp)))) == cp
    with pytest.raises(ValueError, match="p_init"):
        CapacitorParams(p_init=2.0)


def test_mfm_ngspice_matches_numpy():
    from fefet_spice import presets
    from fefet_spice.generator.mfm import triangle
    from fefet_spice.spice.mfm import mfm_charge

    fe = replace(FE, n_domains=12)
    params = replace(presets.get("weight"), name="mfm_t", ferro=fe)
    cp = CapacitorParams(g_leak=20.0, q_offset=0.01, p_init=1.0)
    t, v = triangle(np.array([3.0, -3.0, 1.2, -1.2, 3.0]), 5e4, 1500)
    qn = charge(fe, cp, t, v)
    qs = mfm_charge(params, cp, t, v, n_bins=12)
    assert np.ptp(qn) > 0.4
    assert np.max(np.abs(qs - qn)) <= 2e-3 * np.ptp(qn)


@pytest.mark.slow
def test_parameter_recovery_on_generated_traces():
    from fefet_spice.fit.qv import default_free, fit_qv
    from fefet_spice.generator.mfm import TRUTH_CAP, TRUTH_FERRO, mfm_traces

    traces = mfm_traces(n_samples=800, rng=3)
    free, _ = default_free(traces, {"beta", "g_leak"})
    res = fit_qv(traces, replace(TRUTH_FERRO, alpha=2.0, beta=1.0, tau0=1e-12), free, max_nfev=300)
    truth = {k: getattr(TRUTH_FERRO, k) for k in ("ps", "ea_up", "ea_dn", "ea_sigma", "ea_corr", "v_imp",
                                                  "alpha", "beta", "eps_r")}
    truth.update(log10_tau0=math.log10(TRUTH_FERRO.tau0), g_leak=TRUTH_CAP.g_leak)
    for k, want in truth.items():
        err = res.stderr[k]
        assert err is not None and abs(res.values[k] - want) <= 2 * err, (k, res.values[k], want, err)
    assert not [w for w in res.warnings if w["kind"] == "at_bound"]


def test_fit_and_predict_cli_on_generated_trace(tmp_path):
    from fefet_spice.generator.mfm import mfm_traces

    tr = mfm_traces(rates=(5e4,), n_samples=600, rng=1)[0]
    src = qv.write(tmp_path / "mfm.csv", tr)
    out = tmp_path / "fits" / "cap.json"
    assert main(["fit", "--qv", str(src), "-o", str(out), "--no-plots", "--max-nfev", "80"]) == 0
    doc = json.loads(out.read_text())
    assert doc["metrics"]["qv"][0]["nrmse"] < 0.01 and "warnings" in doc
    assert "receding" in doc["held"]["eps_r"] and doc["parameters"]["eps_r"]["stderr"] > 0  # from the high-field slope
    assert any(w["kind"] == "undetermined" and "ramp rate" in w["message"] for w in doc["warnings"])
    pred = tmp_path / "pred.json"
    assert main(["predict", "--params", str(out), "--qv", str(src), "--json", str(pred),
                 "--plot", str(tmp_path / "pred.png")]) == 0
    m = json.loads(pred.read_text())["metrics"]
    assert m["nrmse"] == pytest.approx(doc["metrics"]["qv"][0]["nrmse"], rel=1e-6) and m["r2"] > 0.99
    from fefet_spice.io.params_file import load_params

    assert load_params(out).ferro.ps == pytest.approx(doc["parameters"]["ps"]["value"])  # usable as --base


@pytest.mark.slow
def test_scheme1_fit_target(shared_dir, tmp_path):
    src = shared_dir / "external" / "scalable_fefet" / "MFM_scheme1.csv"
    out = tmp_path / "s1.json"
    assert main(["fit", "--qv", str(src), "--q-unit", "C/cm2", "-o", str(out), "--no-plots"]) == 0
    doc = json.loads(out.read_text())
    assert doc["metrics"]["qv"][0]["nrmse"] <= 0.015
    assert not [w for w in doc["warnings"] if w["kind"] == "at_bound"]
    sweeps = doc["metrics"]["sweeps"]
    assert len(sweeps["sweeps"]) == 6 and sweeps["heldout_nrmse_max"] < 0.03  # each sweep predicted without it
    for k, sp in sweeps["spread"].items():  # the stated stderr covers what the refits move
        assert doc["parameters"][k]["stderr"] >= max(sp["jackknife"], sp["max_deviation"]) * (1 - 1e-9), k
    assert doc["parameters"]["beta"]["value"] == 1.0 if "beta" in doc["parameters"] else "beta" in doc["held"]


def test_fit_below_min_r2_writes_nothing(tmp_path, capsys):
    from fefet_spice.generator.mfm import mfm_traces

    src = qv.write(tmp_path / "mfm.csv", mfm_traces(rates=(5e4,), n_samples=200, noise=0.05, rng=2)[0])
    out = tmp_path / "cap.json"
    assert main(["fit", "--qv", str(src), "-o", str(out), "--max-nfev", "20", "--min-r2", "0.99999"]) == 2
    assert "R^2" in capsys.readouterr().err and not out.exists() and not (tmp_path / "cap_qv.png").exists()


def test_joint_fit_with_one_pulse_table(tmp_path):
    from fefet_spice.generator.mfm import TRUTH_FERRO, mfm_traces
    from fefet_spice.model.ferro import one_pulse_polarization

    src = qv.write(tmp_path / "mfm.csv", mfm_traces(rates=(5e4,), n_samples=400, rng=1)[0])
    pw, amp = (a.ravel() for a in np.meshgrid(np.logspace(-8, -3, 8), [1.0, 2.0, 3.0]))
    pr = 100 * one_pulse_polarization(TRUTH_FERRO, amp, pw)
    table = _csv(tmp_path, "pw,amp,Pr\n" + "".join(f"{a:g},{b:g},{c:.6g}\n" for a, b, c in zip(pw, amp, pr)), "p.csv")
    out = tmp_path / "joint.json"
    assert main(["fit", "--qv", str(src), "--with-one-pulse", str(table), "-o", str(out), "--no-plots",
                 "--max-nfev", "60"]) == 0
    doc = json.loads(out.read_text())
    assert doc["metrics"]["one_pulse"]["rms_of_swing"] < 0.05 and doc["metrics"]["qv"][0]["nrmse"] < 0.02
    assert not any(w["kind"] == "undetermined" for w in doc["warnings"]) and str(table) in doc["data_files"]


def test_high_field_permittivity_recovers_eps_r_and_the_fit_holds_it():
    from fefet_spice.fit.qv import default_free, fit_qv, sweep_segments
    from fefet_spice.fit.qv_dielectric import high_field_permittivity
    from fefet_spice.generator.mfm import TRUTH_CAP, TRUTH_FERRO, mfm_traces

    fe, cp = replace(TRUTH_FERRO, eps_r=30.0, beta=1.0), replace(TRUTH_CAP, g_leak=0.0)
    one = mfm_traces(fe, cp, rates=(5e4,), n_samples=600, rng=1)
    eps, sd, n = high_field_permittivity(one, fe.t_fe)
    assert n == 2 and abs(eps - 30.0) <= max(2 * sd, 0.01 * 30.0)
    eps3, sd3, n3 = high_field_permittivity(mfm_traces(fe, cp, n_samples=600, rng=1), fe.t_fe)
    assert n3 == 6 and abs(eps3 - 30.0) <= 2 * sd3  # slower ramps: switching still creeps, stated in sd
    a, b = sweep_segments(one[0])[1]  # -3 -> +1.2 V; its second half only approaches its largest |V|
    assert high_field_permittivity([one[0].segment((a + b) // 2, b)], fe.t_fe) is None

    free, _ = default_free(one)
    assert "eps_r" not in free
    res = fit_qv(one, replace(fe, eps_r=55.0, alpha=2.0, tau0=1e-12), free, max_nfev=40, covariance=False,
                 starts=((3.0, 2.8, -6.5),))
    assert res.values["eps_r"] == pytest.approx(eps) and res.stderr["eps_r"] == pytest.approx(sd)
    assert "receding from the largest |V|" in res.held["eps_r"]
    leaky = fit_qv(one, fe, default_free(one, {"g_leak"})[0], max_nfev=5, covariance=False, starts=((3.0, 2.8, -6.5),))
    assert "eps_r" not in leaky.held and leaky.params["eps_r"].vary  # leakage in the slope: fitted
