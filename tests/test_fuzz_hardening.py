"""Fuzz / attack tests, part 3: ``--force`` never destroys, every input bounded, no silent chance-level result.

Each case of the second hardening round: a hostile or careless input must end in exit 0 with a correct
result or exit 2 with one sentence naming the file/field, no traceback, nothing lost (contract: ``_fuzz.cli``).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _fuzz import ROOT, _snapshot, cli, cli_subprocess, committed_files_unchanged  # noqa: F401  (autouse fixture)

LUT = ROOT / "luts" / "weight_preset"
CHAR = ["characterize", "--n-devices", "1", "--n-pulses", "2", "--n-probe", "1", "--serial", "--no-plots"]


# --- 1. --force never deletes or replaces a file fefet-spice did not write -------------------------------

def test_characterize_force_keeps_a_foreign_cache_folder(tmp_path):
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "important.txt").write_text("mine")
    rc, _, _ = cli(*CHAR, "-o", tmp_path, "--force")
    assert rc == 0 and (tmp_path / ".cache" / "important.txt").read_text() == "mine"
    assert (tmp_path / "lut.json").is_file()
    assert sorted(p.name for p in (tmp_path / ".cache").iterdir()) == ["important.txt"]


@pytest.mark.parametrize("name", ["lut.json", "characterization.json", "lut.npz"])
def test_characterize_force_refuses_to_replace_a_foreign_output(tmp_path, name):
    (tmp_path / name).write_text("the user's own")
    before = _snapshot(tmp_path)
    rc, _, msg = cli(*CHAR, "-o", tmp_path, "--force")
    assert rc == 2 and name in msg and "never replaces" in msg
    assert _snapshot(tmp_path) == before


def test_force_replaces_its_own_outputs_but_not_a_changed_one(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli(*CHAR, "-o", tmp_path, "--force")[0] == 0
    assert cli(*CHAR, "-o", tmp_path, "--force", "--seed", "1")[0] == 0  # its own earlier outputs: replaced
    (tmp_path / "characterization.json").write_text('{"edited": true}')
    before = _snapshot(tmp_path)
    rc, _, msg = cli(*CHAR, "-o", tmp_path, "--force", "--seed", "2")
    assert rc == 2 and "characterization.json" in msg
    assert _snapshot(tmp_path) == before


def test_own_folder_rerun_refuses_a_file_the_user_edited(tmp_path):
    out = tmp_path / "o"
    assert cli(*CHAR, "-o", out)[0] == 0
    assert cli(*CHAR, "-o", out, "--seed", "1")[0] == 0
    (out / "lut.json").write_text("edited")
    rc, _, msg = cli(*CHAR, "-o", out, "--seed", "2")
    assert rc == 2 and "lut.json" in msg
    assert (out / "lut.json").read_text() == "edited"


@pytest.mark.parametrize("args, victim", [
    (["gen-measurements", "--device", "weight"], "weight/idvg_pm5V_vd0.1.csv"),
    (["netlist", "--all"], "cell_tb.cir"),
    (["export-lut", str(LUT), "--format", "native"], "lut.json"),
    (["export-lut", str(LUT), "--format", "crosssim"], "dG_increasing.txt"),
])
def test_force_refuses_a_clash_with_a_foreign_file(tmp_path, args, victim):
    (tmp_path / victim).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / victim).write_text("the user's own")
    before = _snapshot(tmp_path)
    rc, _, msg = cli(*args, "-o", tmp_path, "--force")
    assert rc == 2 and Path(victim).name in msg
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["summary.json", "report.html"])
def test_run_force_refuses_a_foreign_summary_before_any_stage(tmp_path, name):
    (tmp_path / name).write_text("the user's own")
    before = _snapshot(tmp_path)
    rc, _, msg = cli("run", "--quick", "-o", tmp_path, "--force", limit_s=20)
    assert rc == 2 and name in msg
    assert _snapshot(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.slow
def test_run_force_never_replaces_a_foreign_stage_file(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weight_dc.json").write_text("the user's own")
    rc, _, msg = cli("run", "--quick", "-o", tmp_path, "--force", limit_s=300)
    assert rc == 2 and "weight_dc.json" in msg
    assert (tmp_path / "model" / "weight_dc.json").read_text() == "the user's own"


# --- 2. bounded inputs: refused before work --------------------------------------------------------------

def _fifo(tmp_path, name="fifo.npz"):
    path = tmp_path / name
    os.mkfifo(path)
    return path


def test_train_dataset_fifo_is_named_not_read(tmp_path):
    fifo = _fifo(tmp_path)
    rc, msg = cli_subprocess("train", "--dataset", f"npz:{fifo}", "--epochs", "11", "--quiet", timeout=60)
    assert rc == 2 and "FIFO" in msg and str(fifo) in msg


def test_ngspice_library_path_fifo_is_named_not_opened(tmp_path):
    from fefet_spice.errors import SimulatorError
    from fefet_spice.spice import runner

    fifo = _fifo(tmp_path, "libngspice.so.0")
    old = os.environ.get("NGSPICE_LIBRARY_PATH")
    os.environ["NGSPICE_LIBRARY_PATH"] = str(fifo)
    try:
        if runner._shared is None:
            with pytest.raises(SimulatorError, match="FIFO"):
                runner._load_shared()
        rc, msg = cli_subprocess(*CHAR[:-2], "--backend", "ngspice", "--no-plots", "-o", tmp_path / "o",
                                 timeout=120)
        assert rc in (0, 2)
    finally:
        os.environ.pop("NGSPICE_LIBRARY_PATH") if old is None else os.environ.__setitem__("NGSPICE_LIBRARY_PATH", old)


@pytest.mark.parametrize("args, words", [
    (["schemes", "--n-train", "1000000000"], "--n-train"),
    (["predict", "--params", "x.json", "--qv", "x.csv", "--bins", "0"], "--bins"),
    (["train", "--n-train", "1000000000"], "--n-train"),
    (["fit", "--qv", "x.csv", "-o", "o.json", "--area", "1e300"], "--area"),
    (["fit", "--qv", "x.csv", "-o", "o.json", "--holdout", "5"], "--holdout"),
    (["schemes", "--area-scale", "1e300"], "--area-scale"),
])
def test_numeric_options_are_bounded_before_work(args, words):
    rc, _, msg = cli(*args, limit_s=5)
    assert rc == 2 and words in msg


def _params_file(tmp_path, path, value, name="p.json"):
    from fefet_spice import presets
    from fefet_spice.params import to_dict

    doc = to_dict(presets.get("weight"))
    node = doc["params"]
    *head, last = path.split(".")
    for k in head:
        node = node[k]
    node[last] = value
    f = tmp_path / name
    f.write_text(json.dumps(doc) if not isinstance(value, str) else json.dumps(doc).replace('"@@"', value))
    return f


@pytest.mark.parametrize("field, value", [
    ("channel.width", 1e300), ("mw", 1e300), ("ferro.t_fe", 1e-300), ("channel.mu0", 1e300),
    ("ferro.area", 1e300), ("channel.cox", 1e-300), ("vt_mid", -1e300), ("ferro.v_imp", 1e308),
    ("channel.vt_amb", 1e308), ("ferro.n_domains", "@@"),
])
def test_implausible_device_parameters_are_refused(tmp_path, field, value):
    if value == "@@":
        value = "@@"
        f = _params_file(tmp_path, field, value)
        f.write_text(f.read_text().replace('"@@"', "7" * 5000))
        leaf = f.name
    else:
        f = _params_file(tmp_path, field, value)
        leaf = field.split(".")[-1]
    for cmd in (["simulate", "--params", f, "--n-pulses", "4"], [*CHAR, "--params", f, "-o", tmp_path / "o"]):
        rc, _, msg = cli(*cmd, limit_s=20)
        assert rc == 2 and leaf in msg and "internal error" not in msg, msg
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("field, value", [
    ("pretrain_passes", 1000000000), ("lr_final", 1e308), ("transfer_clip", 0), ("augment_shift", 1000000000),
    ("augment_shift", 20), ("feedback_clip", 0), ("transfer_clip", -1),
])
def test_schedule_fields_are_bounded(tmp_path, field, value):
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"schema": "fefet-train-schedule/1", field: value}))
    rc, _, msg = cli("train", "--schedule", f, "--quiet", limit_s=20)
    assert rc == 2 and field in msg
    if (field, value) != ("augment_shift", 20):  # (that one is checked against the images, later)
        assert str(f) in msg


def test_huge_integer_in_a_parameter_file(tmp_path):
    f = _params_file(tmp_path, "ferro.n_domains", 1)
    f.write_text(f.read_text().replace('"n_domains": 1', '"n_domains": ' + "9" * 5000))
    rc, _, msg = cli("simulate", "--params", f, "--n-pulses", "4", limit_s=10)
    assert rc == 2 and "5000 digits" in msg and str(f) in msg


def test_one_pulse_table_bounds(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("pw,amp,Pr\n1e-6,1e308,10\n1e-6,3,10\n")
    rc, _, msg = cli("fit", "--one-pulse", f, "-o", tmp_path / "o.json", limit_s=10)
    assert rc == 2 and "line 2" in msg and "amp" in msg
    big = tmp_path / "big.csv"
    with open(big, "w") as fh:
        fh.write("pw,amp,Pr\n")
        fh.writelines(f"{1e-6 * (1 + i % 7)},{3 + i % 3},{10 + i % 5}\n" for i in range(1_000_000))
    t0 = time.monotonic()
    rc, _, msg = cli("fit", "--one-pulse", big, "-o", tmp_path / "o.json", limit_s=30)
    assert rc == 2 and "rows" in msg and time.monotonic() - t0 < 30


# --- 3. meaningless results: refused before work, or a sentence instead of exit 0 --------------------------

def _lut_copy(tmp_path, mutate):
    from dataclasses import replace

    from fefet_spice.lut.native import load_lut, save_lut

    lut = load_lut(LUT)
    out = tmp_path / "lut"
    save_lut(out, replace(lut, **mutate(lut)))
    return out


@pytest.mark.parametrize("what", ["huge", "zero", "wrong_sign"])
def test_degenerate_lut_is_refused_before_training(tmp_path, what):
    mut = {"huge": lambda l: {"dg_mean": np.full_like(l.dg_mean, 1e308)},
           "zero": lambda l: {"dg_mean": np.zeros_like(l.dg_mean), "dg_std": np.zeros_like(l.dg_std),
                              "dg_quantiles": np.zeros_like(l.dg_quantiles)},
           "wrong_sign": lambda l: {"dg_mean": -np.abs(l.dg_mean)}}[what]
    try:
        lut = _lut_copy(tmp_path, mut)
    except Exception as exc:  # noqa: BLE001  refused already when written: also fine
        assert "dg_" in str(exc)
        return
    rc, _, msg = cli("train", "--lut", lut, "--epochs", "11", "--quiet", limit_s=20)
    assert rc == 2 and "dg_mean" in msg


def test_non_finite_images_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    x = np.full((60, 20, 20), np.nan)
    y = np.repeat(np.arange(2, 8), 10)
    classes = "2,3,4,5,6"
    f = tmp_path / "nan.npz"
    np.savez(f, x_train=x, y_train=y, x_test=x, y_test=y)
    rc, _, msg = cli("train", "--dataset", f"npz:{f}", "--classes", classes, "--n-train", "5", "--n-test", "5",
                     "--epochs", "11", "--quiet", limit_s=20)
    assert rc == 2 and "NaN" in msg and str(f) in msg
    blank = tmp_path / "blank.npz"
    np.savez(blank, x_train=np.zeros((60, 20, 20)), y_train=y, x_test=rng.random((60, 20, 20)), y_test=y)
    rc, _, msg = cli("train", "--dataset", f"npz:{blank}", "--classes", classes, "--n-train", "5", "--n-test", "5",
                     "--epochs", "11", "--quiet", limit_s=20)
    assert rc == 2 and "nothing to learn" in msg


def test_chance_level_result_fails_with_a_sentence():
    from fefet_spice.errors import DataError
    from fefet_spice.train.bounds import check_result

    good = {"final_accuracy": 0.8, "dense_software_accuracy": 0.9, "pulses_total": 10, "operations_total": 3}
    check_result(good, 5)
    for bad in ({**good, "final_accuracy": 0.2}, {**good, "dense_software_accuracy": 0.2},
                {**good, "final_accuracy": float("nan")}, {**good, "pulses_total": -184467440737095516160}):
        with pytest.raises(DataError):
            check_result(bad, 5)


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_named_output_file_is_replaced_only_if_fefet_spice_wrote_it(tmp_path, force):
    mine = tmp_path / "cost.json"
    mine.write_text('{"the user": "own"}')
    rc, _, msg = cli("cost", "--network", "msnet", "--json", mine, *force)
    assert rc == 2 and "cost.json" in msg and "not written by fefet-spice" in msg
    assert mine.read_text() == '{"the user": "own"}'
    ours = tmp_path / "ours.json"
    assert cli("cost", "--network", "msnet", "--json", ours)[0] == 0
    assert cli("cost", "--network", "msnet", "--json", ours, "--sparsity", "0.5")[0] == 0  # its own: replaced
    assert json.loads(ours.read_text())
    ours.write_text(ours.read_text() + " ")  # changed since: no longer replaced
    assert cli("cost", "--network", "msnet", "--json", ours, *force)[0] == 2
    assert ours.read_text().endswith(" ")


def test_two_options_naming_the_same_file_are_refused(tmp_path):
    rc, _, msg = cli("cost", "--network", "msnet", "--json", tmp_path / "same.png", "--plot", tmp_path / "same.png")
    assert rc == 2 and "the same file" in msg and not list(tmp_path.iterdir())


def test_fit_refuses_to_replace_a_users_figure_beside_its_output(tmp_path):
    (tmp_path / "w_loops.png").write_bytes(b"the user's own figure")
    rc, _, msg = cli("fit", ROOT / "measurements" / "weight", "--base", "weight", "-o", tmp_path / "w.json",
                     "--force", limit_s=10)
    assert rc == 2 and "w_loops.png" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w_loops.png"]


def test_characterize_cache_force_keeps_a_users_job_file(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "job_00000.npz").write_bytes(b"precious")
    rc, _, msg = cli(*CHAR, "-o", tmp_path / "o", "--cache", tmp_path / "cache", "--force")
    assert rc == 2 and "job_00000.npz" in msg
    assert (tmp_path / "cache" / "job_00000.npz").read_bytes() == b"precious"


@pytest.mark.parametrize("make_luts", [False, True])
def test_device_sweep_force_never_replaces_a_users_file(tmp_path, make_luts):
    folder = tmp_path / "o"
    victim = folder / ("ideal/lut.json" if make_luts else "sweep.csv")
    victim.parent.mkdir(parents=True)
    victim.write_text("the user's own")
    args = ["--make-luts", folder] if make_luts else [LUT, "--dataset", "digits", "--epochs", "11", "--seeds", "0",
                                                      "--n-train", "10", "-o", folder]
    rc, _, msg = cli("device-sweep", *args, "--force")
    assert rc == 2 and victim.name in msg
    assert victim.read_text() == "the user's own"


def test_device_sweep_refuses_two_luts_with_one_name_and_a_negative_seed(tmp_path):
    other = tmp_path / "b" / "weight_preset"
    other.mkdir(parents=True)
    for f in ("lut.json", "lut.npz"):
        (other / f).write_bytes((LUT / f).read_bytes())
    rc, _, msg = cli("device-sweep", LUT, other, "--dataset", "digits", "--seeds", "0", "-o", tmp_path / "o")
    assert rc == 2 and "both are named 'weight_preset'" in msg
    rc, _, msg = cli("device-sweep", LUT, "--dataset", "digits", "--seeds=-1", "-o", tmp_path / "o")
    assert rc == 2 and "--seeds" in msg
    assert not (tmp_path / "o").exists()


# --- 4. no traceback, ngspice's chatter in a log file, the dependency check first ---------------------------

def _python_only_path(tmp_path) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    return str(bin_dir)


def _default_sigint():  # a background job inherits SIGINT ignored; a user's terminal does not
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # nor a mask blocking them


@pytest.mark.parametrize("delay", [0.3, 0.5, 0.8, 1.5])  # (earlier, Python itself is still starting)
def test_ctrl_c_during_start_up_is_one_line(delay):
    proc = subprocess.Popen([sys.executable, "-m", "fefet_spice.cli", "train", "--epochs", "11", "--quiet"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert proc.returncode == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err, err


_SPAWN_INTERRUPTED = """
import os, signal, sys, threading, time
import multiprocessing.util as util
from fefet_spice.characterize import runner
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()  # a thread that can take the signal
spawn = util.spawnv_passfds
def spawn_then_ctrl_c(*args):  # Ctrl-C after a worker's exec, before it has its start-up data
    pid = spawn(*args)
    if "spawn_main" in " ".join(map(str, args[1])):
        os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.3)
    return pid
util.spawnv_passfds = spawn_then_ctrl_c
try:
    runner.run_jobs(abs, [1, -2, 3, -4], lambda job, result: None, workers=2)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_while_pool_workers_start_leaves_no_orphan_traceback():
    """CI failure of stop 33: a Ctrl-C taken by another thread raised inside Process.start; the worker,
    exec'd but never sent its start-up data, died with a traceback on the user's terminal."""
    proc = subprocess.run([sys.executable, "-c", _SPAWN_INTERRUPTED], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, preexec_fn=_default_sigint)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "EOFError" not in proc.stderr, proc.stderr


_CTRL_C_IN_A_FINALIZER = """
import os, signal, sys, weakref
import fefet_spice.cli as cli
class Thing:
    pass
def finalizer(ref):  # Ctrl-C arrives while a weakref callback runs: Python only prints it as 'ignored'
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(100000):
        pass
keep = []
import fefet_spice.api as api
train = api.train
def collect_then_train(*args, **kwargs):
    thing = Thing()
    keep.append(weakref.ref(thing, finalizer))
    del thing
    return train(*args, **kwargs)
api.train = collect_then_train
sys.exit(cli.main(["train", "--epochs", "11", "--quiet"]))
"""


def test_a_ctrl_c_that_lands_in_a_finalizer_still_interrupts():
    """Seen in a stress run: the KeyboardInterrupt raised inside a weakref callback was swallowed and the
    command ran to the end with exit code 0; now it ends at the next checkpoint as interrupted."""
    proc = subprocess.run([sys.executable, "-c", _CTRL_C_IN_A_FINALIZER], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, preexec_fn=_default_sigint)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "ignored" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == ["fefet-spice train: interrupted (finished results and caches are kept)"]


def test_interrupt_hook_keeps_other_unraisable_errors_and_forgets_on_uninstall(monkeypatch):
    from fefet_spice import interrupt

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    class Boom:
        def __del__(self):
            raise ValueError("not an interrupt")

    interrupt.install()
    try:
        Boom()
        assert [str(e) for e in seen] == ["not an interrupt"]  # handed to the previous hook, not kept
        interrupt.check()                                      # nothing pending: no raise
        interrupt._hook(type("U", (), {"exc_value": KeyboardInterrupt()})())
        assert not seen[1:]
        with pytest.raises(KeyboardInterrupt):
            interrupt.check()
        interrupt.check()                                      # raised once only
        interrupt._hook(type("U", (), {"exc_value": KeyboardInterrupt()})())
    finally:
        interrupt.uninstall()
    interrupt.check()                                          # uninstall forgot it
    assert sys.unraisablehook is not interrupt._hook


def test_run_checks_for_ngspice_before_any_stage(tmp_path):
    env = {**os.environ, "PATH": _python_only_path(tmp_path), "NGSPICE_LIBRARY_PATH": str(tmp_path / "none.so")}
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "fefet_spice.cli", "run", "--quick", "-o", tmp_path / "o"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2 and "ngspice is not installed" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and time.monotonic() - t0 < 30
    assert not (tmp_path / "o" / "fit").exists()


def test_ngspice_chatter_goes_to_the_log_file_named_in_the_sentence(tmp_path):
    script = ("from fefet_spice.spice.runner import run_shared\n"
              "run_shared('* bad\\nV1 a 0 1\\nX1 a 0 nosuchsubckt\\n.tran 1n 10n\\n.end\\n', 20)\n")
    env = {**os.environ, "FEFET_SPICE_NGSPICE_LOG": str(tmp_path / "ng.log")}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.returncode != 0 and "nosuchsubckt" not in proc.stderr.split("SimulatorError")[0]
    assert str(tmp_path / "ng.log") in proc.stderr
    assert "nosuchsubckt" in (tmp_path / "ng.log").read_text()


def test_huge_charge_gives_no_runtime_warning(tmp_path):
    f = tmp_path / "q.csv"
    f.write_text("t [s],V [V],Q [C/cm2]\n0,0,1e308\n1e-6,1,10\n2e-6,2,20\n")
    proc = subprocess.run([sys.executable, "-W", "error", "-m", "fefet_spice.cli", "fit", "--qv", f, "-o",
                           tmp_path / "o.json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "line 2" in proc.stderr and "Warning" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# --- 5. temporary folders and caches ----------------------------------------------------------------------

def test_stale_temporary_folders_of_dead_processes_are_swept(tmp_path):
    from fefet_spice.io import tempdirs

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f"fefet-char-{dead}-abc"
    (stale / "sub").mkdir(parents=True)
    live = tmp_path / f"fefet-char-{os.getpid()}-xyz"
    live.mkdir()
    other = tmp_path / "fefet-char-notapid"
    other.mkdir()
    made = tempdirs.make("fefet-char-", tmp_path)
    assert not stale.exists() and live.exists() and other.exists() and made.is_dir()
    with tempdirs.TemporaryFolder("fefet_ng_", tmp_path) as d:
        assert Path(d).is_dir()
    assert not Path(d).exists()


def test_characterize_cache_removal_keeps_foreign_files(tmp_path):
    from fefet_spice.characterize.runner import remove_cache

    (tmp_path / "run.json").write_text("{}")
    (tmp_path / "job_00001.npz").write_bytes(b"x")
    (tmp_path / ".job_00002.npz.abc.npz").write_bytes(b"x")
    (tmp_path / "important.txt").write_text("mine")
    remove_cache(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["important.txt"]


def _wait_for(pattern_dir: Path, pattern: str, proc, limit: float = 120.0) -> list[Path]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        hits = list(pattern_dir.glob(pattern)) if pattern_dir.is_dir() else []
        if hits:
            return hits
        time.sleep(0.05)
    return []


def _finish(proc, timeout: float = 30.0) -> str:
    """Wait for an interrupted command; if it does not stop, kill its group, close the pipes and fail."""
    try:
        return proc.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        ps = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(proc.pid)], capture_output=True, text=True)
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()  # no unclosed pipe or live process for a later test to trip on
        pytest.fail(f"did not stop within {timeout:g} s; still running:\n{ps.stdout}stderr ends: {err[-1500:]}")


@pytest.mark.slow
def test_ctrl_c_with_the_subprocess_backend_leaves_no_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "NGSPICE_LIBRARY_PATH": str(tmp_path / "none.so")}  # -> subprocess
    cmd = [sys.executable, "-m", "fefet_spice.cli", "characterize", "--backend", "ngspice", "--n-devices", "40",
           "--workers", "2", "--no-plots", "-o", str(tmp_path / "c")]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env, preexec_fn=_default_sigint)
    assert _wait_for(tmp, "fefet_ng_*", proc), "no ngspice run started"
    os.killpg(proc.pid, signal.SIGINT)
    err = _finish(proc)
    assert proc.returncode == 130 and "Traceback" not in err, err
    time.sleep(0.5)
    assert not list(tmp.glob("fefet_ng_*")) and not list(tmp.glob("fefet-char-*"))


@pytest.mark.slow
def test_run_keeps_its_characterize_cache_in_the_output_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "o"
    env = {**os.environ, "TMPDIR": str(tmp)}
    cmd = [sys.executable, "-m", "fefet_spice.cli", "run", "--quick", "-o", str(out)]  # ngspice: slow enough to see
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env, preexec_fn=_default_sigint)
    try:
        hit = _wait_for(out / ".cache" / "characterize", "run.json", proc, limit=300)
    finally:  # even when the assertion below fails: no process or open pipe left behind
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        err = _finish(proc)
    assert hit, "the characterize stage did not keep its cache in the output folder"
    assert "Traceback" not in err, err
    assert proc.returncode == 130 or (proc.returncode == 0 and (out / "summary.json").is_file())
    if proc.returncode == 130:
        assert (out / ".cache" / "characterize" / "run.json").is_file()  # resumable
    assert not list(tmp.glob("fefet-char-*")) and not list(tmp.glob("fefet_ng_*"))


def test_a_clean_up_that_hangs_after_ctrl_c_is_cut_short():
    """The exit handlers after Ctrl-C run under a watchdog: one that waits forever (as an untimed join on a
    broken pool can) still ends the command with its exit code, and says where it waited."""
    from fefet_spice.cli import EXIT_CLEANUP_S

    code = ("import atexit, threading, fefet_spice.cli as c\n"
            "atexit.register(lambda: threading.Event().wait())\n"
            "c._exit_now(130)\n")
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    took = time.monotonic() - t0
    assert proc.returncode == 130, proc.stderr
    assert EXIT_CLEANUP_S <= took < 3 * EXIT_CLEANUP_S
    assert "did not finish within" in proc.stderr and "<lambda>" in proc.stderr, proc.stderr


@pytest.mark.parametrize("argv", [["train", "--epochs", "3.5"], ["characterize", "--traffic", "nan"], ["trian"], []])
def test_an_option_argparse_rejects_is_one_sentence(argv, capsys):
    from fefet_spice.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1 and "usage:" not in err, err
    assert "error:" in err and "--help" in err


@pytest.mark.parametrize("spec, words", [("nosuchpreset", "neither a preset"), ("", "give a preset"),
                                         ("no/such.json", "no such file")])
def test_a_device_that_is_neither_preset_nor_file_is_named(spec, words):
    from fefet_spice.errors import FefetError
    from fefet_spice.io.params_file import resolve_params

    with pytest.raises(FefetError, match=words):
        resolve_params(spec)


def test_a_ctrl_c_held_while_workers_start_is_raised_after_and_the_handlers_are_back():
    import threading

    from fefet_spice.characterize import runner

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set from the main thread")
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with runner._signals_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.1)  # noted, not raised inside the hold
                held = True
        assert held and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    finally:
        signal.signal(signal.SIGINT, old)


def test_the_ledger_is_nobodys_file_and_a_fifo_of_its_name_is_never_opened(tmp_path):
    from fefet_spice.io import ledger
    from fefet_spice.io.manifest import present_files
    from fefet_spice.pipeline.cache import _files_under

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    ledger._CLAIMED[str(tmp_path / "sub" / "a.json")] = "cost"
    try:
        ledger.note_written(tmp_path / "sub" / "a.json")
    finally:
        ledger.release_all()
    assert (tmp_path / "sub" / ledger.LEDGER).is_file() and ledger.is_ours(tmp_path / "sub" / "a.json")
    assert present_files(tmp_path) == {"sub/a.json"} and _files_under(tmp_path) == {"sub/a.json"}
    (tmp_path / "sub" / ledger.LEDGER).unlink()
    os.mkfifo(tmp_path / "sub" / ledger.LEDGER)
    assert not ledger.is_ours(tmp_path / "sub" / "a.json")  # returns at once: the FIFO is not opened
    rc, _, msg = cli("cost", "--network", "msnet", "--json", tmp_path / "sub" / "a.json")
    assert rc == 2 and "not written by fefet-spice" in msg


@pytest.mark.parametrize("name", [".", "/", ".."])
def test_fit_to_a_path_without_a_file_name_is_one_sentence(name):
    rc, _, msg = cli("fit", ROOT / "measurements" / "weight", "-o", name)
    assert rc == 2 and "not a file name" in msg


def test_array_cells_that_fire_other_pulses_than_the_lut_are_refused_before_training():
    rc, _, msg = cli("train", "--lut", ROOT / "luts" / "weight_ref", "--array-params", "sparsity", "--epochs", "11",
                     "--quiet", limit_s=20)
    assert rc == 2 and "+10 V" in msg and "+3.9 V" in msg
    from fefet_spice import presets
    from fefet_spice.lut.native import load_lut
    from fefet_spice.train.bounds import check_cells_fire_the_luts_pulses

    check_cells_fire_the_luts_pulses(presets.get("weight"), load_lut(ROOT / "luts" / "weight_ref"))  # the same pulses


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_linked_subfolder_is_never_written_through(tmp_path, force):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "minor_a.csv").write_text("mine")
    out = tmp_path / "gm"
    if not force:  # the command's own folder, then its subfolder replaced by a link to the user's folder
        assert cli("gen-measurements", "--device", "sparsity", "-o", out)[0] == 0
        for f in (out / "sparsity").iterdir():
            f.unlink()
        (out / "sparsity").rmdir()
    else:
        out.mkdir()
    (out / "sparsity").symlink_to(victim)
    rc, _, msg = cli("gen-measurements", "--device", "sparsity", "-o", out, *force)
    assert rc == 2 and "sparsity" in msg
    assert sorted(p.name for p in victim.iterdir()) == ["minor_a.csv"] and (victim / "minor_a.csv").read_text() == "mine"


def test_the_last_line_of_defence_refuses_a_write_through_a_link(tmp_path):
    from fefet_spice.io import manifest
    from fefet_spice.io.atomic import write_text
    from fefet_spice.io.outdir import OutputError

    (tmp_path / "out" / "deep").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "deep" / "link").symlink_to(tmp_path / "elsewhere")
    manifest.guard(tmp_path / "out", set())
    try:
        with pytest.raises(OutputError, match="is a link inside the output folder"):
            write_text(tmp_path / "out" / "deep" / "link" / "x.txt", "no")
        write_text(tmp_path / "out" / "deep" / "y.txt", "yes")
    finally:
        manifest.release(tmp_path / "out")
    assert not list((tmp_path / "elsewhere").iterdir()) and (tmp_path / "out" / "deep" / "y.txt").is_file()


def test_a_lut_path_cannot_put_code_into_the_neurosim_sources(tmp_path):
    evil = tmp_path / 'c\nargs.max_level = 2\nsystem("rm -rf ~");//\\'  # (its slashes nest folders)
    evil.mkdir(parents=True)
    for f in ("lut.json", "lut.npz"):
        (evil / f).write_bytes((LUT / f).read_bytes())
    rc, _, _ = cli("export-lut", evil, "--format", "neurosim", "-o", tmp_path / "eo")
    assert rc == 0
    for f in ("neurosim_v21.txt", "neurosim_realdevice_constructor.cpp"):
        lines = (tmp_path / "eo" / f).read_text().splitlines()
        assert not [ln for ln in lines if "max_level = 2" in ln and not ln.lstrip().startswith(("#", "//"))], f
        assert not [ln for ln in lines if ln.rstrip().endswith("\\")], f  # no C++ line splice into the next line
        assert not [ln for ln in lines if "system(" in ln and not ln.lstrip().startswith(("#", "//"))], f


@pytest.mark.parametrize("final", [0.2, 0.5, 0.742])
def test_a_users_final_pruning_target_is_the_networks_sparsity(final):
    from fefet_spice.train.msnet import SHAPES
    from fefet_spice.train.schedule import Schedule

    sch = Schedule(prune_targets=(final / 2, final), prune_epochs=(11, 17))
    sizes = [m * n for m, n in SHAPES]
    got = sum(round(t * n) for t, n in zip(sch.layer_targets(final), sizes)) / sum(sizes)
    assert got == pytest.approx(final, abs=1.5 / sum(sizes) * 3)  # (before: 74.2 % whatever the target)


def test_a_named_output_never_replaces_another_commands_file(tmp_path):
    assert cli("export-lut", LUT, "--format", "native", "-o", tmp_path / "ex")[0] == 0
    before = (tmp_path / "ex" / "lut.json").read_bytes()
    rc, _, msg = cli("cost", "--network", "msnet", "--json", tmp_path / "ex" / "lut.json", "--force")
    assert rc == 2 and "another fefet-spice command" in msg
    assert (tmp_path / "ex" / "lut.json").read_bytes() == before
    assert cli("cost", "--network", "msnet", "--json", tmp_path / "c.json")[0] == 0
    rc, _, msg = cli("simulate", "--n-devices", "1", "--json", tmp_path / "c.json")  # cost's file, not simulate's
    assert rc == 2 and "another fefet-spice command" in msg


@pytest.mark.parametrize("args", [["netlist", "--all", "-o", ROOT / "fefet_spice"], ["netlist", "--all", "-o", ROOT],
                                  ["cost", "--network", "msnet", "--json", ROOT / "fefet_spice" / "x.json"]])
def test_force_never_writes_into_the_checkout_or_its_source(args):
    rc, _, msg = cli(*args, "--force")
    assert rc == 2 and "refusing to write there" in msg


@pytest.mark.parametrize("args", [["export-lut", LUT, "--format", "native", "-o", ""], [*CHAR, "-o", " "]])
def test_an_empty_output_name_is_refused_not_replaced_by_a_default(args):
    rc, _, msg = cli(*args)
    assert rc == 2 and "not a folder or file name" in msg


def test_a_json_key_given_twice_is_refused(tmp_path):
    f = tmp_path / "dup.json"
    f.write_text('{"epochs": 20, "nested": {"a": 1}, "epochs": 30}')
    rc, _, msg = cli("train", "--schedule", f, "--quiet")
    assert rc == 2 and "'epochs' is given twice" in msg


def test_an_output_folder_given_as_a_link_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "lut.json").write_text("the user's own")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    rc, _, msg = cli(*CHAR, "-o", tmp_path / "link", "--force")
    assert rc == 2 and "is a link" in msg and (tmp_path / "real" / "lut.json").read_text() == "the user's own"


def test_a_file_a_run_stage_wrote_is_listed_in_the_jobs_marker(tmp_path):
    from fefet_spice.io import ledger
    from fefet_spice.io.manifest import guard, manifest_of, note_written, release

    (tmp_path / "out" / "model").mkdir(parents=True)
    (tmp_path / "out" / ".fefet-spice-output.json").write_text('{"schema": "fefet-spice-output/1", "command": "run"}')
    guard(tmp_path / "out", set())
    guard(tmp_path / "out" / "model", set())
    (tmp_path / "out" / "model" / "w.json").write_text("{}")
    note_written(tmp_path / "out" / "model" / "w.json")
    done = release(tmp_path / "out" / "model")
    for rel in done.written:
        note_written(tmp_path / "out" / "model" / rel)
    from fefet_spice.io.manifest import record
    record(tmp_path / "out", "run", release(tmp_path / "out").written)
    assert "model/w.json" in manifest_of(tmp_path / "out")
    assert ledger.is_ours(tmp_path / "out" / "model" / "w.json", "simulate")  # a run's file: its printed commands
