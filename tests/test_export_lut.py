"""LUT exporters: NeuroSim regression, CrossSim files, aihwkit PiecewiseStepDevice kwargs."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from fefet_spice.errors import DataError
from fefet_spice.lut import from_neurosim
from fefet_spice.lut import export_aihwkit as aih
from fefet_spice.lut import export_crosssim as xs
from fefet_spice.lut import export_neurosim as ns
from fefet_spice.lut.core import from_trajectories, PulseKind

G_MIN, G_MAX, P_MAX = 1e-7, 6.1e-6, 64


@pytest.mark.parametrize("nl_ltp, nl_ltd", [(1.75, 1.46), (0.5, 3.0)])
def test_neurosim_regression_recovers_a_b_pmax(nl_ltp, nl_ltd):
    a_ltp, a_ltd = ns.a_for_label(nl_ltp) * P_MAX, ns.a_for_label(nl_ltd) * P_MAX
    lut = from_neurosim(G_MIN, G_MAX, a_ltp, a_ltd, P_MAX, n_g=64)
    fits = ns.fit_lut(lut)
    for name, a in (("ltp", a_ltp), ("ltd", a_ltd)):
        f = fits[name]
        b = (G_MAX - G_MIN) / (1 - math.exp(-P_MAX / a))
        assert f.a == pytest.approx(a, rel=0.01)
        assert f.b == pytest.approx(b, rel=0.01)
        assert f.p_max == pytest.approx(P_MAX, rel=0.01)
    # the fitted labels land within NeuroSim's 0.01 table resolution
    assert fits["ltp"].nl == pytest.approx(nl_ltp, abs=0.01)
    assert fits["ltd"].nl == pytest.approx(nl_ltd, abs=0.01)


def test_closed_form_label_matches_definition():
    for nl in (0.3, 1.0, 1.46, 1.75, 4.0):
        r = ns.a_for_label(nl)
        assert ns.nl_label(r) == pytest.approx(nl, abs=1e-9)
        x = np.linspace(0, 1, 200001)
        g = (1 - np.exp(-x / r)) / (1 - np.exp(-1 / r))
        assert np.max(g - x) / 0.0989949 == pytest.approx(nl, abs=1e-6)
    assert ns.nl_label(math.inf) == 0.0


def test_neurosim_realdevice_fields(tmp_path):
    lut = from_neurosim(G_MIN, G_MAX, ns.a_for_label(1.75) * P_MAX, ns.a_for_label(1.46) * P_MAX, P_MAX,
                        sigma_c2c=0.005, n_traj=64, rng=1)
    paths = ns.write_neurosim(lut, tmp_path)
    assert [p.name for p in paths] == ["neurosim_realdevice.json", "neurosim_realdevice_constructor.cpp",
                                       "neurosim_v21.txt"]
    dev = json.loads(paths[0].read_text())["RealDevice"]
    for key in ("maxConductance", "minConductance", "maxNumLevelLTP", "maxNumLevelLTD", "NL_LTP", "NL_LTD",
                "sigmaCtoC", "readVoltage", "writeVoltageLTP", "writeVoltageLTD", "writePulseWidthLTP",
                "writePulseWidthLTD", "sigmaReadNoise"):
        assert key in dev
    assert dev["maxNumLevelLTP"] == dev["maxNumLevelLTD"] == P_MAX  # the measured pulse count
    # labels of the noisy mean branches (clipping at the bounds bends them slightly)
    assert dev["NL_LTP"] == pytest.approx(1.75, abs=0.2) and dev["NL_LTD"] == pytest.approx(-1.46, abs=0.2)
    assert 0.002 < dev["sigmaCtoC_fraction"] < 0.01
    assert f"NL_LTP = {dev['NL_LTP']!r};" in paths[1].read_text()
    assert "args.nonlinearityLTD = " in paths[2].read_text()


def test_neurosim_rejects_a_branch_going_the_wrong_way():
    t = np.linspace(1e-6, 2e-6, 20)
    lut = from_trajectories({PulseKind(+1, 1, 1e-6): t[None, ::-1].copy(), PulseKind(-1, -1, 1e-6): t[None, ::-1].copy()})
    with pytest.raises(DataError, match="does not move G"):
        ns.fit_lut(lut)



def _noisy(quantile_levels):
    base = from_neurosim(G_MIN, G_MAX, 30.0, 25.0, 48, sigma_c2c=0.01, n_traj=24, rng=2, n_g=32)
    trajs = {k: base.trajectories[i] for i, k in enumerate(base.kinds)}
    return from_trajectories(trajs, n_g=32, quantile_levels=quantile_levels)


def test_crosssim_files_parse_back_to_the_same_quantiles(tmp_path):
    lut = _noisy(np.linspace(0, 1, 11))
    inc, dec = xs.write_crosssim(lut, tmp_path)
    assert (inc.name, dec.name) == ("dG_increasing.txt", "dG_decreasing.txt")
    for path, k in ((inc, 0), (dec, 1)):
        # exactly how CrossSim v2 reads them
        g = np.genfromtxt(path, delimiter=",", skip_header=1, max_rows=1)
        cdf = np.genfromtxt(path, delimiter=",", skip_header=2, max_rows=1)
        mat = np.genfromtxt(path, delimiter=",", skip_header=3)
        assert np.array_equal(g, lut.g_grid) and np.array_equal(cdf, lut.quantile_levels)
        assert np.array_equal(mat, lut.dg_quantiles[k])
        assert np.array_equal(xs.read_crosssim(path)[2], mat)
    # same uniform grids in both files; increasing steps positive on average, decreasing negative
    assert np.array_equal(xs.read_crosssim(inc)[0], xs.read_crosssim(dec)[0])
    assert np.ptp(np.diff(lut.g_grid)) < 1e-9 * np.diff(lut.g_grid)[0]
    assert xs.read_crosssim(inc)[2].mean() > 0 > xs.read_crosssim(dec)[2].mean()


def test_crosssim_resamples_non_uniform_quantiles(tmp_path):
    lut = _noisy((0.05, 0.25, 0.5, 0.75, 0.95))
    g, cdf, mat = xs.read_crosssim(xs.write_crosssim(lut, tmp_path, n_cdf=21)[0])
    assert np.allclose(np.diff(cdf), 0.05) and cdf[0] == 0 and cdf[-1] == 1
    assert np.allclose(mat[10], lut.dg_quantiles[0][2])  # the median is kept
    assert np.all(np.diff(mat, axis=0) >= 0)


def test_aihwkit_kwargs_have_every_field(tmp_path):
    lut = _noisy(np.linspace(0, 1, 11))
    data = json.loads(aih.write_aihwkit(lut, tmp_path, n_nodes=63)[0].read_text())
    kw = data["kwargs"]
    assert tuple(kw) == tuple(sorted(aih.PIECEWISE_FIELDS)) or set(kw) == set(aih.PIECEWISE_FIELDS)
    assert kw["up_down"] == 0.0 and kw["w_min"] == -1.0 and kw["w_max"] == 1.0
    for field in ("dw_min_dtod", "up_down_dtod", "w_max_dtod", "w_min_dtod", "reset_std", "lifetime",
                  "diffusion", "corrupt_devices_prob", "write_noise_std"):
        assert kw[field] == 0.0
    assert len(kw["piecewise_up"]) == len(kw["piecewise_down"]) == 63
    assert 0 < kw["dw_min"] < 1 and 0 < kw["dw_min_std"] < 2
    # node k sits at w_k = -1 + 2k/(N-1): the step near G_min is larger than near G_max for LTP
    assert kw["piecewise_up"][0] > kw["piecewise_up"][-1] and kw["piecewise_down"][-1] > kw["piecewise_down"][0]
    with pytest.raises(DataError, match="n_nodes"):
        aih.piecewise_kwargs(lut, n_nodes=64)


def test_aihwkit_device_builds_if_installed():
    try:
        from aihwkit.simulator.configs.devices import PiecewiseStepDevice
    except ImportError:
        pytest.skip("aihwkit is not installed: PiecewiseStepDevice(**kwargs) not exercised")
    kw = aih.piecewise_kwargs(_noisy(np.linspace(0, 1, 11)))
    names = {f.name for f in dataclasses.fields(PiecewiseStepDevice)} - set(aih.NESTED_DEFAULTS)
    assert set(kw) == names
    assert PiecewiseStepDevice(**kw).dw_min == kw["dw_min"]
