"""Bad input to `fit --one-pulse/--mw-table`, `train --schedule/--classes/--plot` and `cost --plot`:
one clear sentence, exit status 2, nothing written (review findings)."""
import json

import numpy as np
import pytest

from fefet_spice.cli import main
from fefet_spice.errors import DataError, ParamError
from fefet_spice.train import schedule


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.startswith("[")]  # no progress
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _table(path, rows, head="pw,amp,Pr"):
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


def _good_rows(n=12):
    pws = np.logspace(-8, -4, n)
    return [f"{pw:.3e},1.5,{-25 + 50 / (1 + (1e-6 / pw)):.4f}" for pw in pws]


def _fit_fails(tmp_path, capsys, args, *words):
    out = tmp_path / "fit.json"
    assert main(["fit", *args, "-o", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    for w in words:
        assert w in line, line
    assert not out.exists()
    assert list(tmp_path.glob("*.png")) == []
    return line


# --- 1. table fits ---------------------------------------------------------------------------------

def test_table_with_too_few_rows(tmp_path, capsys):
    src = _table(tmp_path / "few.csv", _good_rows(5))
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src)], "few.csv", "5 data rows", "8 free parameters")


def test_table_rows_must_exceed_free_parameters_with_beta_fixed(tmp_path, capsys):
    src = _table(tmp_path / "six.csv", _good_rows(6), head="PW,AMP,MW")
    _fit_fails(tmp_path, capsys, ["--mw-table", str(src), "--beta-fixed"], "six.csv", "6 data rows",
               "6 free parameters")


@pytest.mark.parametrize("pw", ["-1e-6", "0"])
def test_table_with_non_positive_pulse_width(tmp_path, capsys, pw):
    rows = _good_rows()
    rows[3] = f"{pw},1.5,3.0"
    src = _table(tmp_path / "pw.csv", rows)
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src)], "pw.csv", "line 5", "must be > 0")


def test_table_not_utf8(tmp_path, capsys):
    src = tmp_path / "latin.csv"
    src.write_bytes(b"pw,amp,Pr\n1e-6,1.5,3\xb5\n")
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src)], "latin.csv", "UTF-8")


def test_table_row_with_too_few_columns(tmp_path, capsys):
    rows = _good_rows()
    rows[1] = "1e-6,3"
    src = _table(tmp_path / "cols.csv", rows)
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src)], "cols.csv", "line 3: 2 values, need 3")


def test_constant_table_does_not_converge_and_writes_nothing(tmp_path, capsys):
    rows = [f"{pw:.3e},1.5,5.0" for pw in np.logspace(-8, -4, 12)]
    src = _table(tmp_path / "flat.csv", rows)
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src)], "flat.csv", "did not converge", "R^2 = nan")


def test_min_r2_applies_to_table_fits(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [f"{pw:.3e},1.5,{v:.3f}" for pw, v in zip(np.logspace(-8, -4, 12), rng.uniform(-20, 20, 12))]
    src = _table(tmp_path / "noise.csv", rows)
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src), "--no-plots"], "noise.csv", "did not converge",
               "< 0.9")
    out = tmp_path / "loose.json"
    assert main(["fit", "--one-pulse", str(src), "--no-plots", "--min-r2", "-100", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["metrics"]["one_pulse"]["r2"] < 0.9


def test_nan_metrics_become_null_in_the_document(tmp_path):
    from fefet_spice import presets
    from fefet_spice.fit.real import table_document, table_fit
    from fefet_spice.io.atomic import dumps

    rows = [f"{pw:.3e},1.5,5.0" for pw in np.logspace(-8, -4, 12)]
    src = _table(tmp_path / "flat.csv", rows)
    res, _, _ = table_fit(src, "one_pulse")
    assert np.isnan(res.metrics["r2"])
    doc = table_document(res, "one_pulse", presets.get("weight"), [src], "flat")
    assert doc["metrics"]["one_pulse"]["r2"] is None
    assert json.loads(dumps(doc))["metrics"]["one_pulse"]["r2"] is None


def test_lmfit_errors_become_data_errors(tmp_path, monkeypatch):
    from fefet_spice.fit import real

    def broken(*a, **k):
        raise ValueError("NaN values detected in your input data")

    monkeypatch.setattr(real, "fit_one_pulse", broken)
    src = _table(tmp_path / "good.csv", _good_rows())
    with pytest.raises(DataError, match="good.csv.*kinetics fit failed"):
        real.table_fit(src, "one_pulse")


def test_table_options_exclude_other_inputs(tmp_path, capsys):
    src = _table(tmp_path / "t.csv", _good_rows())
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src), "--mw-table", str(src)], "--one-pulse", "--mw-table")
    _fit_fails(tmp_path, capsys, ["--one-pulse", str(src), str(src)], "--one-pulse", "measurement file")
    _fit_fails(tmp_path, capsys, ["--mw-table", str(src), str(tmp_path)], "--mw-table", "measurement file")


# --- 2. schedule files -----------------------------------------------------------------------------

BAD_SCHEDULES = [
    ({"prune_epochs": 5}, "prune_epochs", "list"),
    ({"prune_epochs": "11"}, "prune_epochs", "list"),
    ({"prune_targets": "0.5"}, "prune_targets", "list"),
    ({"layer_shares": "abc"}, "layer_shares", "list"),
    ({"epochs": 20.5}, "epochs", "whole number"),
    ({"steps_per_epoch": 1.5}, "steps_per_epoch", "whole number"),
    ({"levels": 1}, "levels", ">= 2"),
    ({"pretrain_epochs": True}, "pretrain_epochs", "whole number"),
    ({"lr": True}, "lr", "number"),
    ({"lr": "2"}, "lr", "number"),
    ({"prune_epochs": ["a"], "prune_targets": [0.5]}, "prune_epochs", "whole numbers"),
    ({"prune_epochs": [11.0], "prune_targets": [0.5]}, "prune_epochs", "whole numbers"),
    ({"prune_epochs": [11, 17, 23, 60]}, "prune_epochs", "after the last epoch"),
    ({"epochs": 20}, "prune_epochs", "after the last epoch"),
    ({"prune_epochs": [10, 17, 23, 26]}, "prune_epochs", "pretraining"),
    ({"prune_epochs": [11, 23, 17, 26]}, "prune_epochs", "strictly increasing"),
    ({"prune_targets": [0.5, 0.4, 0.6, 0.7]}, "prune_targets", "strictly increasing"),
    ({"prune_targets": [0.5, 0.6, 0.7, 1.0]}, "prune_targets", "[0, 1)"),
    ({"prune_epochs": [11, 17]}, "prune_epochs and prune_targets", "same length"),
]


@pytest.mark.parametrize("content,field,words", BAD_SCHEDULES)
def test_bad_schedule_names_file_and_field(tmp_path, content, field, words):
    path = tmp_path / "sched.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ParamError) as exc:
        schedule.load(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: "), msg
    assert field in msg and words in msg, msg


def test_good_schedule_values_are_normalized(tmp_path):
    path = tmp_path / "sched.json"
    path.write_text(json.dumps({"lr": 2, "epochs": 30, "prune_epochs": [12, 20], "prune_targets": [0.5, 0.6]}))
    sch = schedule.load(path)
    assert sch.lr == 2.0 and isinstance(sch.lr, float)
    assert sch.prune_epochs == (12, 20) and sch.prune_targets == (0.5, 0.6)
    assert schedule.from_dict(schedule.Schedule().to_dict()) == schedule.Schedule()


def test_cli_bad_schedule_one_line(tmp_path, capsys):
    path = tmp_path / "sched.json"
    path.write_text(json.dumps({"levels": 1}))
    out = tmp_path / "t.json"
    assert main(["train", "--schedule", str(path), "--json", str(out), "--quiet"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "sched.json" in line and "levels" in line
    assert not out.exists()


# --- 3. --classes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset,classes,words", [
    ("digits", "a,e,p,r,s", "not an integer"),
    ("digits", "0,1,2,3,4,5", "6 classes"),
    ("digits", "1,2,3", "3 classes"),
    ("digits", "1,1,2,3,4", "duplicate"),
    ("npz:nothing.npz", "1,x,2,3,4", "not an integer"),
    ("emnist:nowhere", "a,e,p,r,1", "not a letter"),
    ("emnist:nowhere", "a,e,p,r,E", "duplicate"),
])
def test_bad_classes(tmp_path, capsys, dataset, classes, words):
    out = tmp_path / "t.json"
    assert main(["train", "--dataset", dataset, "--classes", classes, "--json", str(out), "--quiet"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "--classes" in line and words in line, line
    assert not out.exists()


def test_library_rejects_bad_classes():
    from fefet_spice.train import data

    with pytest.raises(ParamError, match="duplicate"):
        data.load("digits", classes=(1, 1, 2, 3, 4))
    with pytest.raises(ParamError, match="MSNet has 5 outputs"):
        data.load("digits", classes=(0, 1, 2, 3, 4, 5))
    assert data.load("digits", classes=(0, 1, 2, 3, 4)).classes == (0, 1, 2, 3, 4)


# --- 4. --plot suffix ------------------------------------------------------------------------------

def test_train_plot_suffix_checked_first(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main(["train", "--epochs", "11", "--json", str(out), "--plot", str(tmp_path / "x.xyz"), "--quiet"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "--plot" in line and "x.xyz" in line and ".png" in line
    assert not out.exists()


def test_cost_plot_suffix_checked_first(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["cost", "--network", "msnet", "--sparsity", "0.3", "--json", str(out),
                 "--plot", str(tmp_path / "x.xyz")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "--plot" in line and "x.xyz" in line
    assert not out.exists()
    assert main(["cost", "--network", "msnet", "--sparsity", "0.3", "--plot", str(tmp_path / "ok.svg")]) == 0
    assert (tmp_path / "ok.svg").stat().st_size > 1_000
