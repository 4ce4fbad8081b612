"""Fuzz / property tests, part 2: hostile inputs (limits, special files, deep JSON, interrupts, messages).

Every case ends in exit 0 with a correct result or exit 2 with one sentence, no traceback, no file changed
outside the output path, within a time limit (the contract lives in ``_fuzz.cli``). Hypothesis runs
derandomized with few examples so that CI stays fast and reproducible.
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from _fuzz import FUZZ, ROOT, cli, cli_subprocess, committed_files_unchanged  # noqa: F401  (autouse fixture)

# --- 2. hangs and runaway sizes -------------------------------------------------------------------

OUT_OF_RANGE = {
    ("simulate", "--n-devices"): st.one_of(st.integers(max_value=0), st.integers(min_value=1001)),
    ("simulate", "--n-pulses"): st.one_of(st.integers(max_value=0), st.integers(min_value=10_001)),
    ("characterize", "--n-devices"): st.one_of(st.integers(max_value=0), st.integers(min_value=10_001)),
    ("characterize", "--n-g"): st.integers(max_value=1),
    ("characterize", "--seed"): st.integers(max_value=-1),
    ("gen-measurements", "--seed"): st.integers(max_value=-1),
    ("export-lut", "--n-cdf"): st.integers(max_value=1),
    ("train", "--epochs"): st.integers(min_value=10_001),
}


@FUZZ
@given(case=st.sampled_from(sorted(OUT_OF_RANGE)), data=st.data())
def test_out_of_range_counts_are_refused_before_any_work(tmp_path_factory, case, data):
    command, flag = case
    value = data.draw(OUT_OF_RANGE[case])
    d = tmp_path_factory.mktemp("o")
    extra = {"characterize": ["-o", d / "c"], "gen-measurements": ["-o", d / "g"],
             "export-lut": [ROOT / "luts" / "weight_preset", "--format", "crosssim", "-o", d / "e"]}.get(command, [])
    rc, _, msg = cli(command, *extra, flag, value, limit_s=10)
    assert rc == 2 and flag in msg
    assert not any(d.iterdir())


@FUZZ
@given(flag=st.sampled_from(["--vd", "--vmax", "--rate"]),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -1e308, 1e-320])))
def test_simulate_numbers_give_a_finite_result_or_one_sentence(tmp_path_factory, flag, value):
    j = tmp_path_factory.mktemp("s") / "r.json"
    rc, _, msg = cli("simulate", "--waveform", "dc", "--n-pulses", "2", f"{flag}={value!r}", "--json", j, limit_s=30)
    if rc == 0:
        text = j.read_text()
        assert "NaN" not in text and "Infinity" not in text
    else:
        assert not j.exists() and (flag in msg or "finite" in msg)


@pytest.mark.parametrize("pulse", ["3.9,-3.9,1e300", "3.9,-3.9,inf", "nan,-3.9,1e-6", "1e9,-3.9,1e-6",
                                   "3.9,-3.9,0"])
def test_absurd_pulses_are_refused_before_ngspice_starts(tmp_path, pulse):
    rc, _, msg = cli("characterize", "--backend", "ngspice", "--n-devices", "1", "--pulse", pulse,
                     "-o", tmp_path / "c", limit_s=10)
    assert rc == 2 and "pulses[0]" in msg


@pytest.mark.parametrize("field,value", [("t_pulse", 1e300), ("t_pulse", 10.0), ("t_read", 1e9),
                                         ("v_pulse_up", 1e6)])
def test_absurd_operating_point_in_a_parameter_file(tmp_path, weight, field, value):
    from fefet_spice.params import to_dict

    d = to_dict(weight)
    d["params"]["op"][field] = value
    f = tmp_path / "p.json"
    f.write_text(json.dumps(d))
    rc, _, msg = cli("characterize", "--backend", "ngspice", "--params", f, "--n-devices", "1",
                     "-o", tmp_path / "c", limit_s=10)
    assert rc == 2 and "p.json" in msg and field in msg


def test_shared_ngspice_has_a_wall_clock_limit_and_survives_it():
    from fefet_spice.errors import SimulatorError, WallClockLimit
    from fefet_spice.spice import runner

    long_deck = "long\nV1 a 0 SIN(0 1 1e6)\nR1 a b 1k\nC1 b 0 1n\n.tran 1e-9 1e-2 0 1e-9\n.end\n"
    t0 = time.monotonic()
    with pytest.raises(WallClockLimit, match="wall-clock limit"):  # the type the run ladder moves on from
        runner.run(long_deck, backend="shared", timeout=0.5)
    assert time.monotonic() - t0 < 3.0
    with pytest.raises(WallClockLimit, match="wall-clock limit of 0.5 s"):
        runner.run(long_deck, backend="subprocess", timeout=0.5)
    small = "small\nV1 a 0 1\nR1 a b 1k\nC1 b 0 1n\n.tran 1e-8 1e-6\n.end\n"
    assert len(runner.run(small, backend="shared")["time"]) > 10
    with pytest.raises(SimulatorError, match="steps"):  # refused before ngspice starts
        runner.run("huge\nR1 a 0 1\n.tran 1e-12 1e3 0 1e-12\n.end\n", backend="shared")


@pytest.mark.parametrize("kind", ["dev_zero", "symlink_dev_zero", "fifo", "folder"])
def test_special_files_as_inputs_are_named_not_read(tmp_path, kind):
    path = tmp_path / "p.json"
    if kind == "dev_zero":
        path = Path("/dev/zero")
    elif kind == "symlink_dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    for args in (["simulate", "--params", path], ["train", "--schedule", path, "--epochs", "12"],
                 ["fit", "--one-pulse", path, "-o", tmp_path / "f.json"], ["fit", path, "-o", tmp_path / "f.json"]):
        rc, err = cli_subprocess(*args, timeout=60)
        assert rc == 2 and "no such file" not in err, err
        assert ("FIFO" in err) if kind == "fifo" else ("device" in err or "folder" in err or "no *.csv" in err), err


def _group_alive(pgid: int) -> list[str]:
    ps = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [ln for ln in ps.splitlines() if ln.split()[1][0] != "Z"]


def _sigint_as_on_a_terminal():
    """A job started in the background (``make test &``, some CI runners) inherits SIGINT ignored, and an
    ignored signal stays ignored across exec, so Ctrl-C would never reach the command; a user's terminal
    delivers it. Reset it for the command under test, and unblock it and SIGTERM in case the test runner's
    thread has them masked (a mask is inherited across exec too)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


STOP_S = 5.0
"""Longest stop accepted in the test [s]."""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_characterize_stops_promptly_and_leaves_no_process(tmp_path, sig):
    """Stops within 5 s even on a loaded CI machine (the 2 s target, measured at 0.12 s, is checked by
    bench/bench_robustness.py, not here)."""
    cache = tmp_path / "cache"
    cmd = [sys.executable, "-m", "fefet_spice.cli", "characterize", "--backend", "ngspice", "--n-devices", "100",
           "--workers", "2", "-o", tmp_path / "c", "--cache", cache]
    proc = subprocess.Popen(list(map(str, cmd)), start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=_sigint_as_on_a_terminal)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(cache.glob("job_*.npz")):
        time.sleep(0.2)
    assert list(cache.glob("job_*.npz")), "no job finished within 60 s"
    t0 = time.monotonic()
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C reaches the whole foreground group
    else:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        alive = _group_alive(proc.pid)            # what was still running, for the report
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()               # close the pipes (no unclosed-file warning in a later test)
        pytest.fail(f"characterize did not stop within 10 s (exit code {proc.returncode}); still running: "
                    f"{alive}; stderr ends: {err[-400:]!r}")
    assert time.monotonic() - t0 < STOP_S
    if sig == signal.SIGKILL:  # no cleanup in the driver: the workers die with it (PR_SET_PDEATHSIG)
        assert proc.returncode == -signal.SIGKILL
        while _group_alive(proc.pid) and time.monotonic() - t0 < STOP_S:
            time.sleep(0.05)
    else:
        assert proc.returncode in (130, 143) and "Traceback" not in err
        time.sleep(0.3)
    assert _group_alive(proc.pid) == []
    from fefet_spice.characterize.runner import JobCache

    # the cache is intact: every entry loads
    files = sorted(cache.glob("job_*.npz"))
    store = JobCache.__new__(JobCache)
    store.folder = cache
    assert all(store.load(int(f.stem[4:])) is not None for f in files)


# --- 3. tracebacks: arbitrary JSON and tampered files ---------------------------------------------

json_values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)


@FUZZ
@given(doc=st.one_of(json_values, st.fixed_dictionaries({"schema": st.just("fefet-params"),
                                                           "schema_version": st.just(1), "params": json_values})),
       depth=st.sampled_from([0, 0, 50_000]))
def test_arbitrary_json_inputs_end_in_one_sentence(tmp_path_factory, doc, depth):
    d = tmp_path_factory.mktemp("j")
    f = d / "in.json"
    f.write_text("[" * depth + json.dumps(doc) + "]" * depth)
    for args in (["simulate", "--params", f, "--n-pulses", "2"], ["train", "--schedule", f, "--epochs", "11"],
                 ["cost", "--energy", f], ["netlist", "--weight", f, "--all", "-o", d / "n"]):
        rc, _, msg = cli(*args, limit_s=60)
        assert rc == 2 and "in.json" in msg


@pytest.mark.parametrize("field,value", [("lr", 1e308), ("beta1", 1.0), ("beta2", 1.5), ("epochs", 100_000_000),
                                         ("steps_per_epoch", 10**9), ("levels", 10**7), ("pretrain_lr", -1.0),
                                         ("max_pulses", 0), ("regrow_fraction", 2.0)])
def test_schedule_fields_are_range_checked(tmp_path, field, value):
    f = tmp_path / "s.json"
    f.write_text(json.dumps({field: value}))
    rc, _, msg = cli("train", "--schedule", f, limit_s=10)
    assert rc == 2 and "s.json" in msg and field in msg


@FUZZ
@given(field=st.sampled_from(["lr", "beta1", "beta2", "pretrain_lr", "l1", "ridge", "regrow_expansion"]),
       value=st.floats(allow_nan=False, allow_infinity=False))
def test_schedule_floats_either_validate_in_range_or_are_refused(field, value):
    from fefet_spice.errors import ParamError
    from fefet_spice.train.schedule import RANGES, from_dict

    try:
        sch = from_dict({field: value})
    except ParamError as exc:
        assert field in str(exc)
        return
    lo, hi, lo_open = RANGES[field]
    assert lo <= getattr(sch, field) <= hi and math.isfinite(getattr(sch, field))


def test_tampered_characterization_cache_is_recomputed(tmp_path):
    out, cache = tmp_path / "c", tmp_path / "cache"
    args = ["characterize", "--n-devices", "3", "--n-pulses", "4", "--n-probe", "2", "--serial", "--no-plots",
            "--cache", cache]
    assert cli(*args, "-o", out)[0] == 0
    ref = (out / "lut.npz").read_bytes()
    np.savez(cache / "job_00001.npz", traj=np.zeros((7, 2)), masked=np.array([np.nan]), disturb=np.zeros(1),
             energy=np.zeros(0))
    (cache / "job_00002.npz").write_bytes(b"garbage")
    assert cli(*args, "-o", out)[0] == 0
    assert (out / "lut.npz").read_bytes() == ref
    (cache / "run.json").write_text("[" * 100_000)
    rc, _, msg = cli(*args, "-o", out)
    assert rc == 2 and "run.json" in msg


def test_unreachable_dask_scheduler_is_one_sentence(tmp_path):
    pytest.importorskip("distributed")
    rc, _, msg = cli("characterize", "--n-devices", "2", "--scheduler", "tcp://127.0.0.1:9", "-o", tmp_path / "c",
                     limit_s=40)
    assert rc == 2 and "scheduler" in msg


# --- 4. silent wrong results ---------------------------------------------------------------------

@FUZZ
@given(drop=st.sampled_from(["ferro.ps", "ferro.tau0", "channel.cox", "channel.mu0", "op.t_pulse", "vt_mid", "mw",
                             "ferro", "op"]))
def test_a_parameter_file_missing_a_field_is_an_error(tmp_path_factory, weight, drop):
    from fefet_spice.params import to_dict

    d = to_dict(weight)
    node, *rest = drop.split(".")
    if rest:
        del d["params"][node][rest[0]]
    else:
        del d["params"][node]
    f = tmp_path_factory.mktemp("p") / "p.json"
    f.write_text(json.dumps(d))
    rc, _, msg = cli("simulate", "--params", f, "--n-pulses", "2")
    assert rc == 2 and "missing" in msg and drop.split(".")[-1] in msg


def test_committed_parameter_files_still_load():
    from fefet_spice.io.params_file import load_params

    for f in sorted((ROOT / "fits").glob("*.json")):
        load_params(f)


def test_repeated_device_is_counted_once(tmp_path):
    rc, out, _ = cli("gen-measurements", "--device", "weight", "--device", "weight", "-o", tmp_path / "m",
                     "--json", tmp_path / "m.json")
    files = json.loads((tmp_path / "m.json").read_text())["files"]
    assert rc == 0 and len(files) == len(set(files))


# --- 5. messages and linear-time checks ----------------------------------------------------------

def test_one_pulse_accepts_the_header_its_help_documents(tmp_path):
    src = ROOT.parent / "shared" / "external" / "scalable_fefet" / "P_pw_our_own.csv"
    if not src.is_file():
        pytest.skip(f"{src} is absent")
    rows = src.read_text().splitlines()[1:]
    f = tmp_path / "t.csv"
    f.write_text("pw [s],amp [V],Pr [uC/cm^2]\n" + "\n".join(rows) + "\n")
    assert cli("fit", "--one-pulse", f, "-o", tmp_path / "k.json", "--no-plots")[0] == 0
    f.write_text("pw [fortnight],amp [V],Pr [uC/cm^2]\n" + "\n".join(rows) + "\n")
    rc, _, msg = cli("fit", "--one-pulse", f, "-o", tmp_path / "k2.json", "--no-plots")
    assert rc == 2 and "[fortnight]" in msg


def test_header_check_handles_100k_columns(tmp_path):
    from fefet_spice.errors import DataError
    from fefet_spice.readers.own_csv import parse_header

    cells = [f"c{i} [V]" for i in range(100_000)]  # quadratic, this took minutes (bench/bench_robustness.py)
    assert len(parse_header(cells, "x.csv", 1)) == 100_000
    with pytest.raises(DataError, match="appears twice"):
        parse_header(cells + ["c5 [V]"], "x.csv", 1)


def test_non_convergence_names_itself_and_the_time_point():
    from fefet_spice.errors import SimulatorError
    from fefet_spice.spice.runner import _check_output

    log = "doAnalyses: TRAN:  Timestep too small; time = 1.2345e-06, timestep = 1.25e-20: trouble with node x\n" \
          "run simulation(s) aborted\n"
    with pytest.raises(SimulatorError, match=r"did not converge at t = 1\.234e-06 s"):
        _check_output(log, "run")


csv_cells = st.one_of(st.sampled_from(["1", "-2.5e-3", "nan", "inf", "", "1e400", "3 uA", "x", "1,2", "0x10"]),
                      st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=6))


@FUZZ
@given(head=st.lists(st.sampled_from(["# fefet-measurement: 1", "# kind: idvg", "# kind: pulse", "# vd: 0.1 V",
                                      "# kind: bogus", "SetupTitle, x", "DrainI,GateV"]), max_size=3),
       header=st.lists(st.sampled_from(["vg [V]", "id [A]", "id [uA]", "t [s]", "vg", "pulse", "amplitude [V]",
                                        "width [s]", "g [S]", "id [furlong]", "vg [V]", ""]), max_size=5),
       rows=st.lists(st.lists(csv_cells, min_size=1, max_size=5), max_size=5))
def test_measurement_readers_raise_only_data_errors(tmp_path_factory, head, header, rows):
    from fefet_spice.errors import DataError
    from fefet_spice.readers import read_any

    f = tmp_path_factory.mktemp("r") / "m.csv"
    f.write_text("\n".join(head + [",".join(header)] + [",".join(r) for r in rows]) + "\n")
    try:
        ms = read_any(f)
    except DataError as exc:
        assert "m.csv" in str(exc)
        return
    for m in ms:
        assert all(np.all(np.isfinite(v)) for v in m.columns.values())


def test_absurd_device_energies_are_refused(tmp_path):
    assert cli("netlist", "--energy", tmp_path / "e.json")[0] == 0
    doc = json.loads((tmp_path / "e.json").read_text())
    doc["write_energy_per_pulse_j"] = 1e308
    (tmp_path / "big.json").write_text(json.dumps(doc))
    rc, _, msg = cli("cost", "--energy", tmp_path / "big.json", "--json", tmp_path / "c.json")
    assert rc == 2 and "write_energy_per_pulse_j" in msg and not (tmp_path / "c.json").exists()


def test_sim_timeout_option_stops_a_long_ngspice_characterization(tmp_path):
    rc, _, msg = cli("characterize", "--backend", "ngspice", "--serial", "--n-devices", "1", "--n-pulses", "400",
                     "--sim-timeout", "0.3", "-o", tmp_path / "c", limit_s=30)
    assert rc == 2 and "wall-clock limit of 0.3 s" in msg
    assert "FEFET_SPICE_SIM_TIMEOUT" not in os.environ  # the option does not leak into later runs


ATTACKS = [  # (arguments, words the one sentence must contain); {t} is a fresh folder, {r} the checkout
    (["simulate", "--vd", "nan"], "--vd"), (["simulate", "--vmax", "inf", "--waveform", "dc"], "--vmax"),
    (["simulate", "--n-devices", "10000000"], "--n-devices"), (["simulate", "--n-pulses", "-3"], "--n-pulses"),
    (["simulate", "--rate", "1e-300", "--waveform", "dc"], "--rate"), (["simulate", "--sim-timeout", "nan"], "timeout"),
    (["simulate", "--json", "{t}"], "folder"), (["simulate", "--json", "{r}/README.md"], "README.md"),
    (["characterize", "--n-g", "1", "-o", "{t}/c"], "--n-g"), (["characterize", "--seed", "-1", "-o", "{t}/c"], "--seed"),
    (["characterize", "--workers", "0", "-o", "{t}/c"], "--workers"),
    (["characterize", "--n-pulses", "10000", "--n-devices", "10000", "-o", "{t}/c"], "device-pulses"),
    (["characterize", "-o", "{r}/luts"], "luts"), (["characterize", "--cache", "{r}/netlists", "-o", "{t}/c"], "--cache"),
    (["export-lut", "{r}/luts/weight_preset", "--format", "crosssim", "--n-cdf", "-1", "-o", "{t}/e"], "--n-cdf"),
    (["export-lut", "{r}/luts/weight_preset", "--format", "aihwkit", "-o", "{r}/netlists"], "netlist"),
    (["gen-measurements", "--seed", "-1", "-o", "{t}/g"], "--seed"), (["gen-measurements", "-o", "{r}"], "checkout"),
    (["netlist", "--all", "-o", "{r}/fits"], "fits"), (["run", "-o", "{r}"], "checkout"),
    (["run", "-o", "{r}/netlists", "--quick"], "netlist"), (["run", "-o", "{t}", "--dataset", "npz:/dev/zero"], "/dev/zero"),
    (["train", "--epochs", "100000000"], "--epochs"), (["fit", "{r}/measurements/weight", "-o", "{r}/fefet_spice/x.json"], "fefet_spice"),
    (["fit", "{r}/measurements/weight", "-o", "{t}"], "folder"), (["cost", "--energy", "/dev/zero"], "/dev/zero"),
]


@pytest.mark.parametrize("args,words", ATTACKS, ids=[" ".join(a[:3]) for a, _ in ATTACKS])
def test_issue_attack_catalog(tmp_path, args, words):
    rc, _, msg = cli(*[a.replace("{t}", str(tmp_path)).replace("{r}", str(ROOT)) for a in args], limit_s=20)
    assert rc == 2 and words in msg
    assert not (tmp_path / "c").exists() and not (tmp_path / "e").exists() and not (tmp_path / "g").exists()
