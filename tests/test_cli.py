import json

from fefet_spice.cli import main


def test_simulate_pulses_json_and_plot(tmp_path, capsys):
    j, png = tmp_path / "p.json", tmp_path / "p.png"
    assert main(["simulate", "--preset", "weight", "--waveform", "pulses", "--n-pulses", "20",
                 "--json", str(j), "--plot", str(png)]) == 0
    data = json.loads(j.read_text())
    for key in ("t", "vg", "id", "polarization", "g_after_pulse"):
        assert key in data
    assert len(data["g_after_pulse"][0]) == 40
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    assert "g_max" in capsys.readouterr().out


def test_simulate_dc_reports_memory_window(tmp_path):
    j = tmp_path / "d.json"
    assert main(["simulate", "--preset", "sparsity", "--waveform", "dc", "--json", str(j)]) == 0
    data = json.loads(j.read_text())
    assert 3.5 < data["summary"]["memory_window_v"] < 4.5
    assert len(data["vg"]) == len(data["id"][0])


def test_bad_parameter_file_gives_one_sentence_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "fefet-params", "schema_version": 1, "params": {"name": "x\\n.control"}}')
    out = tmp_path / "never.json"
    assert main(["simulate", "--params", str(bad), "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "name" in err[0]
    assert not out.exists()


def test_other_schema_version_is_one_sentence(tmp_path, capsys):
    f = tmp_path / "v2.json"
    f.write_text('{"schema": "fefet-params", "schema_version": 2, "params": {}}')
    assert main(["simulate", "--params", str(f)]) == 2
    assert "schema_version" in capsys.readouterr().err


def test_simulate_rejects_bad_counts_and_plot_type_before_work(tmp_path, capsys):
    j = tmp_path / "s.json"
    assert main(["simulate", "--n-devices", "0", "--json", str(j)]) == 2
    assert "--n-devices" in capsys.readouterr().err
    assert main(["simulate", "--plot", str(tmp_path / "x.xyz"), "--json", str(j)]) == 2
    assert "--plot" in capsys.readouterr().err
    assert not j.exists()
