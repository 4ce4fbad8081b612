"""Main-job machinery: stage caching by input hash and the self-contained report."""
import html
import json
import time
from pathlib import Path

import pytest

from fefet_spice.pipeline.cache import Stage, StageResult, run_stages
from fefet_spice.pipeline.report import write_report

ROOT = Path(__file__).resolve().parents[1]


def _stage_factory(calls):
    def make(name):
        def func(folder, cfg, upstream):
            calls.append(name)
            (folder / "x.txt").write_text(str(cfg))
            return StageResult(summary={"value": cfg["v"], "key_figure": {"label": f"{name} value", "value": cfg["v"]}},
                               files=[folder / "x.txt"])
        return func
    return make


def test_only_changed_stages_and_their_dependants_rerun(tmp_path):
    calls = []
    make = _stage_factory(calls)

    def stages(v_a, v_b):
        return [Stage("a", "A", make("a"), config={"v": v_a}),
                Stage("b", "B", make("b"), config={"v": v_b}, after=["a"]),
                Stage("c", "C", make("c"), config={"v": 0})]

    log = []
    run_stages(stages(1, 2), tmp_path, "0", log=log.append)
    assert calls == ["a", "b", "c"]
    recs = run_stages(stages(1, 2), tmp_path, "0", log=log.append)
    assert calls == ["a", "b", "c"] and all(r.cached for r in recs)
    run_stages(stages(5, 2), tmp_path, "0", log=log.append)
    assert calls == ["a", "b", "c", "a", "b"]  # b depends on a; c untouched
    run_stages(stages(5, 2), tmp_path, "1", log=log.append)  # a new package version invalidates all
    assert calls[-3:] == ["a", "b", "c"]


def test_input_file_change_invalidates(tmp_path):
    calls = []
    data = tmp_path / "data.csv"
    data.write_text("1,2\n")
    st = lambda: [Stage("a", "A", _stage_factory(calls)("a"), config={"v": 1}, inputs=[data])]  # noqa: E731
    run_stages(st(), tmp_path / "out", "0", log=lambda *_: None)
    run_stages(st(), tmp_path / "out", "0", log=lambda *_: None)
    data.write_text("1,3\n")
    run_stages(st(), tmp_path / "out", "0", log=lambda *_: None)
    assert calls == ["a", "a"]


def test_report_embeds_figures_and_names_key_figures(tmp_path):
    from fefet_spice.io.atomic import save_figure
    from fefet_spice.plotting import new_figure

    def func(folder, cfg, upstream):
        fig, ax = new_figure()
        ax[0, 0].plot([0, 1], [1, 0])
        png = save_figure(fig, folder / "fig.png")
        return StageResult(summary={"key_figure": {"label": "answer", "value": 42.0, "unit": "uS"}}, figures=[png])

    recs = run_stages([Stage("s", "Stage S", func)], tmp_path, "0", log=lambda *_: None)
    text = write_report(tmp_path / "report.html", recs, "t", {"seed": 0}).read_text()
    assert "answer: 42 uS" in text and "data:image/png;base64," in text and "src=\"fig.png\"" not in text


@pytest.mark.slow
def test_main_job_end_to_end_report_and_cache(tmp_path):
    """Reduced configuration of `fefet-spice run` (ngspice characterization, few epochs): the report and
    summary name every stage's key figure, and a re-run with nothing changed takes < 10 % of the time."""
    from fefet_spice.cli import main

    out = tmp_path / "out"
    args = ["run", "-o", str(out), "--quick", "--measurements", str(ROOT / "measurements")]
    t0 = time.perf_counter()
    assert main(args) == 0
    first = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    stages = summary["stages"]
    assert set(stages) == {"model", "fit", "netlists", "characterize", "export", "train", "cost", "schemes"}
    report = (out / "report.html").read_text()
    for name, stage in stages.items():
        assert stage["key_figure"], name
        assert html.escape(stage["key_figure"]) in report, name
    assert stages["characterize"]["summary"]["backend"] == "ngspice"
    t0 = time.perf_counter()
    assert main(args) == 0
    second = time.perf_counter() - t0
    assert all(s["cached"] for s in json.loads((out / "summary.json").read_text())["stages"].values())
    assert second < 0.1 * first


def test_failed_rerun_keeps_the_previous_outputs(tmp_path):
    calls = []
    good = _stage_factory(calls)("a")

    def bad(folder, cfg, upstream):
        (folder / "partial.txt").write_text("half")
        raise RuntimeError("stage crashed")

    run_stages([Stage("a", "A", good, config={"v": 1})], tmp_path, "0", log=lambda *_: None)
    before = (tmp_path / "a" / "x.txt").read_text()
    with pytest.raises(RuntimeError):
        run_stages([Stage("a", "A", bad, config={"v": 2})], tmp_path, "0", log=lambda *_: None)
    assert (tmp_path / "a" / "x.txt").read_text() == before
    assert not (tmp_path / "a" / "partial.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    recs = run_stages([Stage("a", "A", good, config={"v": 1})], tmp_path, "0", log=lambda *_: None)
    assert recs[0].cached  # the old outputs are still valid for the old configuration


def test_missing_input_is_a_clear_error(tmp_path):
    from fefet_spice.errors import DataError

    st = [Stage("a", "A", _stage_factory([])("a"), inputs=[tmp_path / "nope.npz"])]
    with pytest.raises(DataError, match="nope.npz"):
        run_stages(st, tmp_path / "out", "0", log=lambda *_: None)
