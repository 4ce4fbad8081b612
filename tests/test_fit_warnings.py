"""Fit warnings (bounds, stderr, correlation, undetermined, generalization) and published-table columns."""
import numpy as np
import pytest

from fefet_spice.errors import DataError
from fefet_spice.fit.real import read_table
from fefet_spice.fit.warnings import fit_warnings, format_warning, generalization_warning


def _fit(x, y, **bounds):
    import lmfit

    p = lmfit.Parameters()
    p.add("a", 1.0, min=bounds.get("a_min", -10), max=bounds.get("a_max", 10))
    p.add("b", 0.5, min=0.0, max=10.0)
    p.add("c", 0.0, min=-10, max=10)
    p.add("log10_k", -1.0, min=-5, max=5)
    return lmfit.minimize(lambda q: q["a"] * x + q["b"] * x + q["c"] + 0 * q["log10_k"] - y, p)


def test_warnings_name_bound_correlation_and_undetermined():
    x = np.linspace(0, 1, 30)
    y = 2.0 * x + 0.1 * np.sin(7 * x)
    res = _fit(x, y, a_max=0.5)  # a + b is all the data see; a pushed to its bound
    w = fit_warnings(res, undetermined={"log10_k": "a second measurement"})
    kinds = {(r["parameter"], r["kind"]) for r in w}
    assert ("a", "at_bound") in kinds
    assert ("log10_k", "undetermined") in kinds and not any(r["parameter"] == "log10_k" and r["kind"] != "undetermined"
                                                              for r in w)
    assert all(format_warning(r).startswith("warning [") for r in w)
    clean = _fit(x, 2.0 * x + 1.0 + 0.01 * np.sin(9 * x))
    clean.params["b"].set(vary=False)
    clean.params["log10_k"].set(vary=False)
    import lmfit

    good = lmfit.minimize(lambda q: q["a"] * x + q["c"] - (2.0 * x + 1.0 + 0.01 * np.sin(9 * x)), clean.params)
    assert fit_warnings(good) == []


def test_correlated_and_uncertain_parameters_flagged():
    import lmfit

    rng = np.random.default_rng(0)
    x = np.linspace(10, 11, 40)  # offset and slope nearly degenerate far from x = 0
    y = 0.01 * x + 0.2 * rng.standard_normal(40)
    p = lmfit.Parameters()
    p.add("slope", 0.0)
    p.add("icpt", 0.0)
    res = lmfit.minimize(lambda q: q["slope"] * x + q["icpt"] - y, p)
    w = fit_warnings(res)
    assert any(r["kind"] == "correlated" for r in w)
    assert any(r["kind"] == "uncertain" and r["parameter"] == "slope" for r in w)


def test_generalization_warning():
    assert generalization_warning(1.0, 1.2) is None
    w = generalization_warning(1.0, 3.0, label="held-out", unit="V")
    assert w["kind"] == "generalization" and "held-out" in w["message"]


@pytest.mark.parametrize("head,factor", [("pw,amp,Pr", 1.0), ("PW,AMP,P", 1.0), ("pw [us],amp [V],Pr [uC/cm2]", 1.0),
                                         ("Pw (s),Amp,P [C/m^2]", 100.0)])
def test_table_column_aliases_and_units(tmp_path, head, factor):
    src = tmp_path / "t.csv"
    src.write_text(f"{head}\n1,2,0.3\n2,2,0.4\n")
    d = read_table(src, ("pw", "amp", "Pr"))
    assert np.allclose(d["Pr"], np.array([0.3, 0.4]) * factor)
    assert d["pw"][0] == (1e-6 if "us" in head else 1.0)


def test_table_unknown_unit_or_column_is_one_sentence(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("pw [fortnight],amp,Pr\n1,2,3\n")
    with pytest.raises(DataError, match=r"t.csv: line 1: column 'pw' has unit \[fortnight\]"):
        read_table(src, ("pw", "amp", "Pr"))
    src.write_text("width_x,amp,Pr\n1,2,3\n")
    with pytest.raises(DataError, match="line 1: wrong columns: missing pw"):
        read_table(src, ("pw", "amp", "Pr"))
