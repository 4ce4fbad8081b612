"""The ferroelectric's Preisach density (imprint groups, (up, down) grid, reversible polarization), its
ngspice twin, leave-one-sweep-out refits, the capacitor API and the main job's capacitor stage."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from fefet_spice import api, presets
from fefet_spice.errors import ParamError
from fefet_spice.model.capacitor import CapacitorParams, charge, dielectric_charge
from fefet_spice.model.ferro import domain_activation, domain_imprint, one_pulse_polarization
from fefet_spice.params import FerroParams, from_dict, to_dict

FE = FerroParams(n_domains=16, ps=0.17, ea_up=2.2, ea_dn=2.0, ea_sigma=0.6, ea_corr=0.3, v_imp=0.1,
                 alpha=2.8, beta=1.0, tau0=3e-7, eps_r=55.0)


def test_new_fields_default_to_the_old_model_and_old_files():
    from scipy.special import ndtri

    fp = presets.get("weight").ferro
    z = ndtri((np.arange(fp.n_domains) + 0.5) / fp.n_domains)
    up, dn = domain_activation(fp)
    assert np.allclose(up, np.maximum(fp.ea_up + fp.ea_sigma * z, 1e-3 * min(fp.ea_up, fp.ea_dn)), rtol=0, atol=1e-12)
    assert np.all(domain_imprint(fp) == fp.v_imp)
    doc = to_dict(presets.get("weight"))
    assert not {"ea_cond", "ea_sigma_dn", "imp_n", "imp_sigma", "q_rev", "v_rev"} & set(doc["params"]["ferro"])
    assert from_dict(json.loads(json.dumps(doc))) == presets.get("weight")
    new = replace(presets.get("weight"), ferro=replace(fp, imp_n=4, imp_sigma=0.3, q_rev=0.02, ea_cond=2))
    assert from_dict(json.loads(json.dumps(to_dict(new)))) == new
    with pytest.raises(ParamError, match="multiple of ea_cond"):
        replace(fp, n_domains=63, imp_n=4)


def test_bivariate_grid_samples_the_correlated_pair():
    fp = replace(FE, n_domains=400, ea_cond=20, ea_corr=0.6, ea_sigma=0.5, ea_sigma_dn=0.8)
    up, dn = domain_activation(fp)
    assert len(np.unique(up)) == 20  # every up quantile with 20 conditional down quantiles
    assert np.corrcoef(up, dn)[0, 1] == pytest.approx(0.6, abs=0.03)
    assert np.std(up) == pytest.approx(0.5, rel=0.05) and np.std(dn) == pytest.approx(0.8, rel=0.05)


def test_imprint_groups_switch_back_before_the_imprint_and_reversible_term():
    t = np.linspace(0, 1.2e-4, 1201)
    v = 3.0 * np.cos(np.pi * t / 1.2e-4)  # +3 V -> -3 V
    one = charge(replace(FE, eps_r=30.0), CapacitorParams(), t, v)
    spread = charge(replace(FE, eps_r=30.0, n_domains=64, imp_n=4, imp_sigma=1.0), CapacitorParams(), t, v)
    k = np.searchsorted(-v, -0.05)  # still above the imprint (0.1 V)
    assert spread[k] < one[k] - 0.01  # groups with a positive imprint have switched down already
    q = dielectric_charge(replace(FE, q_rev=0.03, v_rev=1.0), np.array([-3.0, 0.0, 3.0]))
    assert q[2] - q[1] == pytest.approx(8.8541878128e-12 * 55.0 * 3.0 / 10e-9 + 0.03 * np.tanh(3.0))
    p = one_pulse_polarization(replace(FE, n_domains=64, imp_n=4, imp_sigma=0.5), 2.5, 1e-5)
    assert -FE.ps < p < FE.ps


@pytest.mark.slow
@pytest.mark.parametrize("kw", [dict(beta=1.5),
                                dict(imp_n=2, imp_sigma=0.4, ea_cond=2, ea_sigma_dn=0.4, q_rev=0.03, v_rev=1.5)])
def test_mfm_ngspice_runs_beta_imprint_groups_and_reversible_term(kw):
    from fefet_spice.generator.mfm import triangle
    from fefet_spice.spice.mfm import mfm_charge

    fe = replace(FE, **kw)
    params = replace(presets.get("weight"), name="mfm_t", ferro=fe)
    cp = CapacitorParams(g_leak=20.0, q_offset=0.01, p_init=1.0)
    t, v = triangle(np.array([3.0, -3.0, 1.2, -1.2, 3.0]), 5e4, 1200)
    qn, qs = charge(fe, cp, t, v), mfm_charge(params, cp, t, v, n_bins=16)
    assert np.ptp(qn) > 0.4
    assert np.max(np.abs(qs - qn)) <= 2e-3 * np.ptp(qn)


def test_fefet_subcircuit_and_verilog_a_refuse_what_they_do_not_carry():
    from fefet_spice.spice.device import binned_device
    from fefet_spice.spice.verilog_a import fefet_module

    p = replace(presets.get("weight"), ferro=replace(presets.get("weight").ferro, imp_n=4, imp_sigma=0.2))
    with pytest.raises(ParamError, match="MFM capacitor"):
        binned_device(p, 12)
    with pytest.raises(ParamError, match="imp_n"):
        fefet_module(p, 12)
    with pytest.raises(ParamError, match="one imprint"):
        api.simulate(p, "pulses", n_pulses=4)


def _traces(n=500, rates=(5e4,), seed=1):
    from fefet_spice.generator.mfm import mfm_traces

    return mfm_traces(replace(FE, n_domains=64, beta=1.0), rates=rates, n_samples=n, rng=seed)


def test_sweep_refits_state_at_least_their_spread():
    from fefet_spice.fit.qv import default_free, fit_qv
    from fefet_spice.fit.qv_refit import apply_refits, segment_refits

    traces = _traces()
    free, _ = default_free(traces)
    base = replace(presets.get("weight").ferro, beta=1.0)
    res = fit_qv(traces, base, free, max_nfev=60)
    cov = dict(res.stderr)
    rf = segment_refits(traces, base, free, res, max_nfev=20)
    assert len(rf["sweeps"]) == 4  # +A -> -A -> +0.4A -> -0.4A -> +A
    assert all(0 < r["heldout_nrmse"] < 0.2 for r in rf["sweeps"])
    apply_refits(res, rf)
    for k, s in rf["spread"].items():
        assert res.stderr[k] >= max(s["jackknife"], s["max_deviation"]) - 1e-15
        assert cov[k] is None or res.stderr[k] >= cov[k]


def test_api_fit_and_predict_capacitor_notes(tmp_path):
    from fefet_spice.readers import qv

    tr = _traces(400)[0]
    fit = api.fit_capacitor([tr], presets.get("weight"), name="cap", max_nfev=40, refits=False)
    assert fit.fit.ferro.beta == 1.0 and "beta" in fit.fit.held
    assert fit.document["metrics"]["qv"][0]["nrmse"] < 0.02 and fit.cpu_time_s > 0
    files = fit.save(tmp_path / "cap.json", plots=False)
    assert files == [tmp_path / "cap.json"]
    rounded = qv.QVTrace(tr.t, tr.v, tr.q, "x.csv", n_nudged=3)
    pred = api.predict_capacitor(tmp_path / "cap.json", [rounded])
    assert pred.metrics[0]["nrmse"] == pytest.approx(fit.document["metrics"]["qv"][0]["nrmse"], rel=1e-6)
    assert any("spread 3" in n for n in pred.notes)
    sp = replace(fit.params, ferro=replace(fit.params.ferro, beta=1.4))
    with pytest.raises(ParamError, match="--bins"):
        api.predict_capacitor(sp, [tr], backend="ngspice", bins=0)
    assert pred.quantities()[0]["value"] == pytest.approx(100 * pred.metrics[0]["nrmse"])


@pytest.mark.slow
def test_capacitor_stage_fits_predicts_and_reports(tmp_path):
    from fefet_spice.pipeline.stage_capacitor import capacitor_stage, stage_capacitor
    from fefet_spice.readers import qv

    a, b = _traces(500, rates=(5e4, 1e5), seed=2)
    fa, fb = qv.write(tmp_path / "a.csv", a), qv.write(tmp_path / "b.csv", b)
    st = capacitor_stage([fa, fb], quick=True)
    folder = tmp_path / "stage"
    folder.mkdir()
    res = stage_capacitor(folder, {**st.config, "max_nfev": 30}, {})
    s = res.summary
    assert len(s["cross_waveform"]) == 1 and s["cross_waveform"][0]["nrmse"] < 0.05
    assert len(s["heldout_sweeps"]) == 4 and s["key_figure"]["value"] > 0
    assert all(p.exists() for p in res.figures) and "capacitor_fit.json" in {p.name for p in res.files}
    assert "issue" not in json.dumps(s).lower()
    from fefet_spice.pipeline.cache import StageRecord
    from fefet_spice.pipeline.report import render

    rec = StageRecord("capacitor", st.title, "k", False, 1.0, json.loads(json.dumps(s, default=str)),
                      [str(p) for p in res.figures], [str(p) for p in res.files])
    html = render([rec], "report", {})
    assert "worst cross-waveform prediction error" in html and "capacitor_predict.png" in html


def test_fecap_verilog_a_carries_grid_imprint_groups_and_reversible_term(tmp_path):
    pytest.importorskip("openvaf_py")
    from fefet_spice.spice.va_check import check_fecap
    from fefet_spice.spice.verilog_a import fecap_module

    fp = replace(presets.get("weight").ferro, ea_up=2.0, ea_dn=2.2, ea_sigma=0.6, alpha=3.0, tau0=3e-7,
                 ea_cond=2, imp_n=2, imp_sigma=0.4, ea_sigma_dn=0.5, q_rev=0.03, v_rev=1.5)
    path = tmp_path / "mfm.va"
    path.write_text(fecap_module(fp, 8, module="mfm"))
    res = check_fecap(path, fp, 8, n_points=300, seed=6, v_max=4.0)
    assert res.ok(), res
    assert res.n_switching >= 100
    bad = tmp_path / "bad.va"
    bad.write_text(path.read_text().replace("imp_sigma * ", "0.9 * imp_sigma * ", 1))
    assert not check_fecap(bad, fp, 8, n_points=300, seed=6, v_max=4.0).ok()
    with pytest.raises(ParamError, match="multiple"):
        fecap_module(fp, 6)
