"""Readers: one sample file per format, a round trip of our CSV, and bad input naming file and line."""
from pathlib import Path

import numpy as np
import pytest

from fefet_spice.errors import DataError
from fefet_spice.readers import Measurement, parse_unit, read_any, read_dir, sniff
from fefet_spice.readers import keithley_4200, keysight_b1500, own_csv, two_column

DATA = Path(__file__).parent / "data"


def test_units():
    assert parse_unit("uA") == ("A", 1e-6)
    assert parse_unit("ms") == ("s", 1e-3)
    assert parse_unit("mS") == ("S", 1e-3)
    assert parse_unit("µA") == ("A", 1e-6)
    with pytest.raises(ValueError):
        parse_unit("furlong")


def test_b1500_two_runs():
    runs = keysight_b1500.read(DATA / "b1500_idvg_two_runs.csv")
    assert len(runs) == 2
    a, b = runs
    assert a.kind == b.kind == "idvg"
    assert len(a) == 9 and len(b) == 5
    assert a["id"][4] == pytest.approx(1.9e-6)
    assert a.meta("vd") == pytest.approx(0.1) and b.meta("vd") == pytest.approx(0.5)
    assert a.meta("param.Measurement.Primary.Compliance") == pytest.approx(1e-4)
    assert b.source.endswith("#run2")
    assert sniff(DATA / "b1500_idvg_two_runs.csv") == "b1500"


def test_keithley_csv_and_vforce_imeas():
    m = keithley_4200.read(DATA / "k4200_idvd.csv")
    assert m.kind == "idvd" and m.meta("vg") == pytest.approx(1.5)
    assert np.all(np.diff(m["t"]) > 0) and m["id"][-1] == pytest.approx(1.47e-6)
    v = read_any(DATA / "k4200_vforce_imeas.csv")[0]
    assert v.kind == "idvg" and v.meta("vd") == pytest.approx(0.1) and v["vg"][0] == -1.0


def test_keithley_xlsx_is_refused_clearly(tmp_path):
    f = tmp_path / "run.xlsx"
    f.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="run.xlsx.*CSV"):
        read_any(f)


def test_two_column_units_from_caller():
    m = two_column.read(DATA / "two_column_idvg.txt", kind="idvg", x_unit="V", y_unit="uA",
                        metadata={"vd": 0.1})
    assert m["id"][-1] == pytest.approx(1.8e-6) and m.meta("vd") == 0.1
    with pytest.raises(DataError, match="must be in 'A'"):
        two_column.read(DATA / "two_column_idvg.txt", kind="idvg", x_unit="V", y_unit="uV")


def test_own_pulse_sample_in_si():
    m = own_csv.read(DATA / "own_pulse.csv")
    assert m.kind == "pulse"
    assert m["width"][1] == pytest.approx(1e-6) and m["g"][3] == pytest.approx(0.118e-6)
    assert m["t"][-1] == pytest.approx(1e-3)
    assert m.meta("vd") == pytest.approx(0.1) and m.meta("reset_t") == pytest.approx(100e-6)


def test_own_csv_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    vg = np.linspace(-5, 5, 41)
    m = Measurement("idvg", {"t": np.arange(41) * 0.05 + 0.05, "vg": vg, "id": 10 ** rng.uniform(-13, -5, 41)},
                    {"vd": 0.1, "instrument": "generator", "reset_v": -6.0}, "mem")
    path = own_csv.write(tmp_path / "a.csv", m, units={"id": "nA"})
    back = own_csv.read(path)
    assert back.kind == "idvg" and dict(back.metadata) == dict(m.metadata)
    for k in m.columns:
        np.testing.assert_allclose(back[k], m[k], rtol=1e-5)
    assert "id [nA]" in path.read_text()
    with pytest.raises(ValueError):
        back["vg"][0] = 1.0  # frozen arrays


def test_read_dir(tmp_path):
    (tmp_path / "x.csv").write_text((DATA / "own_pulse.csv").read_text())
    assert [m.kind for m in read_dir(tmp_path)] == ["pulse"]
    with pytest.raises(DataError, match="no \\*.nothing files"):
        read_dir(tmp_path / "..", pattern="*.nothing")


OWN_HEAD = "# fefet-measurement: 1\n# kind: idvg\n# vd: 0.1\n"


@pytest.mark.parametrize("text, match", [
    ("", "line 1: the file is empty"),
    (OWN_HEAD + "vg [V],id [A]\n", "line 4: no data rows"),
    (OWN_HEAD + "vg [V],ig [A]\n1,2\n", "line 4: wrong columns.*missing id"),
    (OWN_HEAD + "vg [V],id [A]\n1,2e-9\n2,nan\n", "line 6: column 'id'"),
    (OWN_HEAD + "t [s],vg [V],id [A]\n0.1,1,2e-9\n0.2,2,2e-9\n0.15,3,3e-9\n", "line 7: time is not increasing"),
    (OWN_HEAD + "vg [V],id [uA]\n1,2 uA\n2,3 mA\n", "line 6: mixed units"),
    (OWN_HEAD + "vg [V],id [V]\n1,2\n", "column 'id' must be in 'A'"),
    (OWN_HEAD + "vg [V],id [A]\n1,2,3\n", "line 5: 3 values"),
    ("vg,id\n1,2\n", "line 1: not a fefet-measurement"),
])
def test_own_csv_bad_input(tmp_path, text, match):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=match) as err:
        own_csv.read(f)
    assert "bad.csv" in str(err.value)


def test_b1500_bad_input(tmp_path):
    f = tmp_path / "b.csv"
    f.write_text("SetupTitle, I/V\nDataName, Vg, Id\nDataValue, 1, 2e-9\nDataValue, 2, NaN\n")
    with pytest.raises(DataError, match="b.csv: line 4: column 'Id'"):
        keysight_b1500.read(f)
    f.write_text("SetupTitle, I/V\nDataName, Vg, Ig\nDataValue, 1, 2e-9\n")
    with pytest.raises(DataError, match="wrong columns"):
        keysight_b1500.read(f)
    f.write_text("SetupTitle, I/V\nDataName, Vg, Id, Time\nDataValue, 1, 2e-9, 1\nDataValue, 2, 3e-9, 0.5\n")
    with pytest.raises(DataError, match="line 4: time is not increasing"):
        keysight_b1500.read(f)


def test_keithley_wrong_columns(tmp_path):
    f = tmp_path / "k.csv"
    f.write_text("Foo,Bar\n1,2\n")
    with pytest.raises(DataError, match="k.csv: wrong columns"):
        keithley_4200.read(f)
