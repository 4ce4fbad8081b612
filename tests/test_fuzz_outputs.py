"""Fuzz / property tests, part 1: output paths are owned (issue 16's data-loss attacks).

Every case ends in exit 0 with a correct result or exit 2 with one sentence, no traceback, no file changed
outside the output path, within a time limit (the contract lives in ``_fuzz.cli``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from _fuzz import FUZZ, ROOT, _snapshot, _tree_hash, cli, committed_files_unchanged  # noqa: F401  (autouse fixture)

# --- 1. data loss: output folders are owned ------------------------------------------------------

STAGES = ("model", "fit", "netlists", "characterize", "export", "train", "cost")
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)


@FUZZ
@given(where=st.sampled_from(STAGES + ("", "summary.json", "report.html")), name=names,
       body=st.binary(max_size=64))
def test_run_never_touches_a_folder_it_does_not_own(tmp_path_factory, where, name, body):
    out = tmp_path_factory.mktemp("u")
    target = out / where / name if where in STAGES else out / (where or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    before = _snapshot(out)
    rc, _, msg = cli("run", "-o", out, "--quick", limit_s=20)
    assert rc == 2 and str(out) in msg
    assert _snapshot(out) == before


@pytest.mark.parametrize("folder", [".", "netlists", "fits", "luts", "measurements", "fefet_spice", "tests"])
def test_run_refuses_the_checkout_and_its_folders(folder):
    before = _tree_hash(ROOT / "netlists", ROOT / "fits")
    rc, _, msg = cli("run", "-o", ROOT / folder, "--quick", limit_s=20)
    assert rc == 2 and "refusing" in msg or "belongs to" in msg or "not empty" in msg
    assert _tree_hash(ROOT / "netlists", ROOT / "fits") == before


@pytest.mark.parametrize("args", [
    ["netlist", "--all", "-o", "{d}"],
    ["characterize", "--n-devices", "1", "--n-pulses", "2", "--serial", "--no-plots", "-o", "{d}"],
    ["gen-measurements", "--device", "weight", "-o", "{d}"],
    ["export-lut", str(ROOT / "luts" / "weight_preset"), "--format", "aihwkit", "-o", "{d}"],
])
def test_every_output_folder_option_refuses_foreign_content(tmp_path, args):
    (tmp_path / "thesis.txt").write_text("irreplaceable")
    rc, _, msg = cli(*[a.replace("{d}", str(tmp_path)) for a in args])
    assert rc == 2 and "thesis.txt" in msg and "--force" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.txt"]
    # --force writes beside it and leaves it alone
    rc, _, _ = cli(*[a.replace("{d}", str(tmp_path)) for a in args], "--force")
    assert rc == 0 and (tmp_path / "thesis.txt").read_text() == "irreplaceable"


def test_a_folder_of_another_command_is_refused(tmp_path):
    assert cli("netlist", "--all", "-o", tmp_path)[0] == 0
    rc, _, msg = cli("gen-measurements", "--device", "weight", "-o", tmp_path)
    assert rc == 2 and "fefet-spice netlist" in msg
    assert cli("netlist", "--all", "-o", tmp_path)[0] == 0  # its own folder: regenerated in place


def test_committed_folders_regenerate_in_place(tmp_path):
    """`make netlists` (netlist --all -o netlists) still works: the committed folder carries the marker."""
    import shutil

    copy = tmp_path / "netlists"
    shutil.copytree(ROOT / "netlists", copy)
    assert cli("netlist", "--all", "-o", copy)[0] == 0
    assert _snapshot(copy) == _snapshot(ROOT / "netlists")
    for d in ("luts/weight_ref", "luts/weight_preset"):
        assert json.loads((ROOT / d / ".fefet-spice-output.json").read_text())["command"] == "characterize"
    assert json.loads((ROOT / "measurements" / ".fefet-spice-output.json").read_text())["command"] == "gen-measurements"


def test_stage_rerun_replaces_only_its_own_files(tmp_path):
    from fefet_spice.errors import FefetError
    from fefet_spice.pipeline.cache import Stage, StageResult, run_stages

    def make(value, fail=False):
        def func(folder, cfg, upstream):
            (folder / "x.txt").write_text(str(value))
            if fail:
                raise RuntimeError("stage crashed")
            return StageResult(summary={"v": value}, files=[folder / "x.txt"])
        return [Stage("a", "A", func, config={"v": value})]

    quiet = lambda *_: None  # noqa: E731
    run_stages(make(1), tmp_path, "0", log=quiet)
    (tmp_path / "a" / "important.txt").write_text("thesis")
    with pytest.raises(FefetError, match="important.txt"):
        run_stages(make(2), tmp_path, "0", log=quiet)
    assert (tmp_path / "a" / "x.txt").read_text() == "1"
    run_stages(make(2), tmp_path, "0", log=quiet, force=True)  # writes beside the foreign file
    assert (tmp_path / "a" / "x.txt").read_text() == "2" and (tmp_path / "a" / "important.txt").exists()
    with pytest.raises(RuntimeError):
        run_stages(make(3, fail=True), tmp_path, "0", log=quiet, force=True)
    assert (tmp_path / "a" / "x.txt").read_text() == "2" and (tmp_path / "a" / "important.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


@pytest.mark.parametrize("kind", ["folder", "fifo", "python", "readonly"])
def test_output_file_options_refuse_what_they_must_not_replace(tmp_path, kind):
    target = tmp_path / "t.json"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "python":
        target = tmp_path / "code.py"
        target.write_text("print('mine')\n")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        target = ro / "t.json"
        ro.chmod(0o500)
    try:
        rc, _, msg = cli("simulate", "--n-pulses", "2", "--json", target)
        if os.geteuid() == 0 and kind == "readonly":
            assert rc in (0, 2)  # root writes anyway
        else:
            assert rc == 2 and str(target) in msg
    finally:
        (tmp_path / "ro").chmod(0o700) if (tmp_path / "ro").exists() else None
    if kind == "python":
        assert target.read_text() == "print('mine')\n"


def test_concurrent_runs_into_one_folder_one_loses_cleanly(tmp_path):
    from fefet_spice.io.outdir import exclusive

    out = tmp_path / "o"
    assert cli("netlist", "--all", "-o", tmp_path / "n")[0] == 0
    out.mkdir()
    with exclusive(out):
        rc, _, msg = cli("run", "-o", out, "--quick", limit_s=20)
    assert rc == 2 and "another fefet-spice run" in msg


def test_kill_9_during_a_stage_rerun_recovers_the_previous_outputs(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(f"""
import sys, time
from pathlib import Path
from fefet_spice.pipeline.cache import Stage, StageResult, run_stages
v, force = int(sys.argv[1]), sys.argv[2] == "force"
def func(folder, cfg, upstream):
    (folder / "x.txt").write_text(str(v))
    (folder / "sub").mkdir()
    (folder / "sub" / "y.txt").write_text(str(v))
    if v == 2:
        (folder / "partial.flag").write_text("")
        time.sleep(60)
    return StageResult(summary={{"v": v}}, files=[folder / "x.txt", folder / "sub" / "y.txt"])
run_stages([Stage("a", "A", func, config={{"v": v}})], Path({str(tmp_path / 'out')!r}), "0", log=lambda *_: None,
           force=force)
""")

    def run(v, force=""):
        return subprocess.Popen([sys.executable, str(script), str(v), force], cwd=ROOT, stderr=subprocess.DEVNULL)

    a = tmp_path / "out" / "a"
    assert run(1).wait(60) == 0
    (a / "mine.txt").write_text("user file")  # not written by fefet-spice: must survive everything
    proc = run(2, "force")
    deadline = time.monotonic() + 60
    while not (a / "partial.flag").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (a / "partial.flag").exists()
    proc.kill()
    proc.wait(10)
    assert run(1).wait(60) != 0  # refused before any work: the user's file is in the way
    assert (a / "mine.txt").read_text() == "user file"
    assert run(1, "force").wait(60) == 0  # the killed run's partial outputs go, the user's file stays
    assert (a / "x.txt").read_text() == "1" and (a / "sub" / "y.txt").read_text() == "1"
    assert (a / "mine.txt").read_text() == "user file" and not (a / "partial.flag").exists()
    assert not (tmp_path / "out" / ".a.previous").exists()


def test_characterize_cache_option_is_an_owned_output(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    rc, _, msg = cli("characterize", "--n-devices", "1", "--cache", tmp_path, "-o", tmp_path / "c")
    assert rc == 2 and "--cache" in msg and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_stage_folder_links_are_never_followed(tmp_path):
    from fefet_spice.errors import FefetError
    from fefet_spice.pipeline.cache import MANIFEST, Stage, StageResult, run_stages

    outside = tmp_path / "outside"
    (outside / "empty_sub").mkdir(parents=True)
    (outside / "precious.txt").write_text("keep")

    def func(folder, cfg, upstream):
        (folder / "x.txt").write_text(str(cfg["v"]))
        return StageResult(summary={}, files=[folder / "x.txt"])

    out = tmp_path / "out"
    run_stages([Stage("a", "A", func, config={"v": 1})], out, "0", log=lambda *_: None)
    (out / "a" / "link").symlink_to(outside, target_is_directory=True)
    doc = json.loads((out / "a" / MANIFEST).read_text())
    doc["written"] += ["link/precious.txt", "../outside/precious.txt"]  # a tampered manifest
    (out / "a" / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(FefetError, match="link"):
        run_stages([Stage("a", "A", func, config={"v": 2})], out, "0", log=lambda *_: None)
    run_stages([Stage("a", "A", func, config={"v": 2})], out, "0", log=lambda *_: None, force=True)
    assert (outside / "precious.txt").read_text() == "keep" and (outside / "empty_sub").is_dir()
    assert (out / "a" / "link").is_symlink() and (out / "a" / "x.txt").read_text() == "2"


@FUZZ
@given(entries=st.lists(st.tuples(names, st.booleans()), max_size=4),
       marker=st.sampled_from([None, "run", "netlist", "garbage"]), command=st.sampled_from(["run", "netlist"]),
       force=st.booleans())
def test_claim_dir_refuses_exactly_the_folders_it_must(tmp_path_factory, entries, marker, command, force):
    from fefet_spice.io.outdir import MARKER, OutputError, claim_dir, write_marker

    d = tmp_path_factory.mktemp("claim") / "out"
    d.mkdir()
    for name, is_dir in entries:
        (d / name).mkdir(exist_ok=True) if is_dir else (d / name).write_text("x") if not (d / name).exists() else None
    if marker == "garbage":
        (d / MARKER).write_text("{not json")
    elif marker:
        write_marker(d, marker)
    before = _snapshot(d), sorted(p.name for p in d.iterdir())
    owner = marker if marker in ("run", "netlist") else None
    foreign_content = any(p.name != MARKER for p in d.iterdir())
    must_refuse = not force and ((owner is not None and owner != command) or (owner is None and foreign_content))
    try:
        claim_dir(d, command, force)
        refused = False
    except OutputError as exc:
        refused = True
        assert str(d) in str(exc) and "\n" not in str(exc)
    assert refused == must_refuse
    assert (_snapshot(d), sorted(p.name for p in d.iterdir())) == before  # a check never changes anything
