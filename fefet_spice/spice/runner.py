"""Run an ngspice deck and return its vectors as numpy arrays.

Two back ends, same result: PySpice's shared ngspice (``NgSpiceShared``, in process) and a plain
``ngspice -b -r`` subprocess whose binary raw file is parsed here. ``backend="auto"`` uses the shared
library when it loads and falls back to the subprocess. Any failure — ngspice missing, a deck error,
a transient that does not converge, a NaN in the results — raises :class:`SimulatorError`.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from ..errors import SimulatorError, WallClockLimit

LIBNGSPICE_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/libngspice.so.0", "/usr/lib/libngspice.so.0",
                         "/usr/local/lib/libngspice.so.0", "/usr/lib/aarch64-linux-gnu/libngspice.so.0")
_FAIL = re.compile(r"timestep too small|run simulation\(s\) aborted|singular matrix|"
                   r"could not find a valid|no such|unknown (?:subckt|model|device)|error on line|"
                   r"too few parameters|simulation interrupted|cannot recover", re.IGNORECASE)
DEFAULT_TIMEOUT = 600.0
"""Wall-clock limit of one ngspice run [s]; ``$FEFET_SPICE_SIM_TIMEOUT`` or ``--sim-timeout`` overrides it."""
MAX_TRAN_STEPS = 2e7
"""Most transient steps a deck may force (t_stop / max step): beyond that a run takes hours."""
_TRAN = re.compile(r"^\s*\.tran\s+(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+(\S+))?", re.IGNORECASE | re.MULTILINE)
_shared = None
_shared_lock = threading.Lock()
_loaded = False


def _vector_key(key: str) -> str:
    """Shared-library names (``vg#branch``, ``x1.q0``) in the raw-file form (``i(vg)``, ``v(x1.q0)``)."""
    key = key.lower()
    if key.endswith("#branch"):
        return f"i({key[:-7]})"
    if key == "time" or "(" in key:
        return key
    return f"v({key})"


def sim_timeout(timeout: float | None = None) -> float:
    """The wall-clock limit to use: ``timeout``, else ``$FEFET_SPICE_SIM_TIMEOUT``, else the default."""
    if timeout is not None:
        return float(timeout)
    text = os.environ.get("FEFET_SPICE_SIM_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise SimulatorError(f"FEFET_SPICE_SIM_TIMEOUT={text!r}: not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise SimulatorError(f"FEFET_SPICE_SIM_TIMEOUT={text!r}: must be a positive finite number of seconds")
    return value


def check_work(deck: str) -> None:
    """Refuse, before ngspice starts, a transient whose length or step count is unbounded or absurd."""
    for m in _TRAN.finditer(deck):
        try:
            step, stop = float(m.group(1)), float(m.group(2))
            maxstep = float(m.group(4)) if m.group(4) else step
        except ValueError:
            continue  # SPICE suffixes (1u): ngspice parses them; our decks use plain numbers
        if not all(map(np.isfinite, (step, stop, maxstep))) or stop <= 0 or maxstep <= 0:
            raise SimulatorError(f"ngspice deck: .tran {m.group(1)} {m.group(2)}: times must be finite and > 0")
        if stop / maxstep > MAX_TRAN_STEPS:
            raise SimulatorError(f"ngspice deck: the transient of {stop:.3g} s with steps of at most {maxstep:.3g} s "
                                 f"needs over {MAX_TRAN_STEPS:.0e} steps (hours of simulation); shorten the pulses "
                                 "or the pulse count")


_NONCONV = re.compile(r"timestep too small|singular matrix|cannot recover|no convergence|gmin stepping failed|"
                      r"source stepping failed|iteration limit reached", re.IGNORECASE)
_TIME_AT = re.compile(r"\btime\s*=\s*([-+0-9.eE]+)")


def log_path() -> Path:
    """The file that receives ngspice's own messages (``$FEFET_SPICE_NGSPICE_LOG`` or one per user in the
    temporary folder, appended, at most 2 x 4 MiB): they never reach the terminal, the error names the file."""
    import tempfile

    return Path(os.environ.get("FEFET_SPICE_NGSPICE_LOG") or
                Path(tempfile.gettempdir()) / f"fefet-spice-ngspice-{os.getuid()}.log")


_LOG_HANDLER = None


def _route_pyspice_log() -> None:
    """Send PySpice's logger (ngspice's stdout/stderr lines of the shared library) to :func:`log_path`."""
    global _LOG_HANDLER
    if _LOG_HANDLER is not None:
        return
    from logging.handlers import RotatingFileHandler

    logger = logging.getLogger("PySpice")
    try:
        handler = RotatingFileHandler(log_path(), maxBytes=4 << 20, backupCount=1, delay=True)
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s pid %(process)d %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    _LOG_HANDLER = handler


def _logged(text: str) -> str:
    """Append ``text`` (ngspice's output of a failed run) to the log; the note that names the log file."""
    _route_pyspice_log()
    try:
        logging.getLogger("PySpice.fefet").error("failed run:\n%s", text[-20000:])
    except (OSError, ValueError):
        return ""
    return f" (ngspice's messages: {log_path()})"


def _check_output(text: str, what: str) -> None:
    hit = _FAIL.search(text)
    if hit:
        tail = "\n".join(line for line in text.splitlines() if line.strip())[-1500:]
        note = _logged(text)
        nc = _NONCONV.search(text)
        if nc:
            at = _TIME_AT.search(text[nc.start():]) or _TIME_AT.search(text)
            when = f" at t = {float(at.group(1)):.4g} s" if at else ""
            raise SimulatorError(f"ngspice did not converge{when} ({nc.group(0)}) in {what}{note}\n{tail}")
        raise SimulatorError(f"ngspice {what} failed ({hit.group(0)!r}){note}\n{tail}")


def _check_vectors(vectors: dict[str, np.ndarray], what: str) -> dict[str, np.ndarray]:
    if not vectors:
        raise SimulatorError(f"ngspice {what}: no vectors were produced (did the analysis run?)")
    for key, arr in vectors.items():
        if not np.all(np.isfinite(arr)):
            raise SimulatorError(f"ngspice {what}: vector {key!r} contains NaN or inf (no convergence)")
    return vectors


def parse_raw(data: bytes) -> dict[str, np.ndarray]:
    """Parse an ngspice raw file (binary or ASCII, real data); the last plot wins. Keys are lower case."""
    out: dict[str, np.ndarray] = {}
    pos = 0
    while pos < len(data):
        head_end_b = data.find(b"Binary:\n", pos)
        head_end_a = data.find(b"Values:\n", pos)
        ends = [e for e in (head_end_b, head_end_a) if e >= 0]
        if not ends:
            break
        end = min(ends)
        header = data[pos:end].decode("ascii", "replace")
        nvar = int(re.search(r"No\. Variables:\s*(\d+)", header).group(1))
        npts = int(re.search(r"No\. Points:\s*(\d+)", header).group(1))
        if "complex" in re.search(r"Flags:\s*(.*)", header).group(1):
            raise SimulatorError("raw file: complex data is not supported")
        names = re.findall(r"^\s+\d+\s+(\S+)\s+\S+", header.split("\nVariables:", 1)[1], re.MULTILINE)[:nvar]
        body = end + len("Binary:\n")
        if end == head_end_b:
            count = nvar * npts
            arr = np.frombuffer(data, dtype="<f8", count=count, offset=body).reshape(npts, nvar)
            pos = body + 8 * count
        else:
            tokens = data[body:].split()
            vals, i = [], 0
            for _ in range(npts):
                i += 1  # point index
                vals.append([float(t) for t in tokens[i:i + nvar]])
                i += nvar
            arr = np.array(vals).reshape(npts, nvar)
            pos = len(data)
        out = {n.lower(): arr[:, j].copy() for j, n in enumerate(names)}
    return out


def _die_with_parent() -> None:
    """In the ngspice child before exec: SIGKILL when this process dies (Linux), no orphaned ngspice."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_subprocess(deck: str, timeout: float | None = None, budget: float | None = None) -> dict[str, np.ndarray]:
    """Run ``deck`` with ``ngspice -b -r`` and return its vectors (``time``, ``v(node)``, ``i(src)``...).
    ``budget``: CPU budget [s] of the progress watchdog (:mod:`fefet_spice.spice.watchdog`), or None."""
    from .watchdog import control_deck, tran_stop, watch_subprocess

    timeout = sim_timeout(timeout)
    check_work(deck)
    exe = shutil.which("ngspice")
    if exe is None:
        raise SimulatorError("ngspice is not installed (no 'ngspice' on PATH); `make setup` installs it")
    from ..io.tempdirs import TemporaryFolder

    with TemporaryFolder("fefet_ng_") as tmp:  # a killed worker's folder is swept by the next run
        cir, raw = Path(tmp) / "deck.cir", Path(tmp) / "out.raw"
        watched = control_deck(deck, raw.name) if budget is not None else None  # ngspice runs in tmp
        if watched is not None:
            cir.write_text(watched, encoding="utf-8")
            text, code = watch_subprocess(exe, cir, tmp, tran_stop(deck), budget, timeout, _die_with_parent)
            _check_output(text, "run")
            if not raw.exists():  # (exit code 1: "no simulations run" counts the .control run out)
                raise SimulatorError(f"ngspice exited with code {code}:\n{text[-1500:]}")
            return _check_vectors(parse_raw(raw.read_bytes()), "run")
        cir.write_text(deck, encoding="utf-8")
        try:
            proc = subprocess.run([exe, "-b", "-r", str(raw), str(cir)], capture_output=True, text=True,
                                  timeout=timeout, cwd=tmp, preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired:
            raise WallClockLimit(timeout) from None
        text = proc.stdout + "\n" + proc.stderr
        _check_output(text, "run")
        if proc.returncode != 0 or not raw.exists():
            raise SimulatorError(f"ngspice exited with code {proc.returncode}:\n{text[-1500:]}")
        return _check_vectors(parse_raw(raw.read_bytes()), "run")


def _shared_class(base):
    """PySpice's NgSpiceShared with a background-thread callback that returns the int ngspice expects
    (PySpice's returns None: cffi then prints an error per run) and signals the end of a run."""
    from PySpice.Spice.NgSpice import Shared as mod

    class _Shared(base):
        @staticmethod
        def _background_thread_running(exited, ngspice_id, user_data):  # noqa: ARG004
            self = mod.ffi.from_handle(user_data)
            self._is_running = not exited  # ngspice passes "exited": false at the start, true at the end
            if exited and getattr(self, "_fefet_done", None) is not None:
                self._fefet_done.set()
            return 0

        def send_stat(self, message, ngspice_id):  # noqa: ARG002  progress for the watchdog
            watch = getattr(self, "_fefet_watch", None)
            if watch is not None:
                watch.stat(message)
            return 0

    return _Shared


def _library_path_error() -> str | None:
    """Why ``$NGSPICE_LIBRARY_PATH`` cannot be loaded (a FIFO or device would block the loader), or None."""
    where = os.environ.get("NGSPICE_LIBRARY_PATH")
    if not where:
        return None
    from ..io.inputs import kind_of, not_usable

    if kind_of(where) != "file":
        return f"NGSPICE_LIBRARY_PATH={where}: {not_usable(where)}"
    return None


def check_available() -> None:
    """Before any work: ngspice can be run (the program on PATH or the shared library), else one sentence."""
    if shutil.which("ngspice") is not None:
        return
    try:
        _load_shared()
    except SimulatorError as exc:
        raise SimulatorError(f"ngspice is not installed: no 'ngspice' program on PATH, and {exc} "
                             "(`make setup` installs ngspice and libngspice0)") from None


def _load_shared():
    global _shared
    if _shared is not None:
        return _shared
    why = _library_path_error()
    if why:  # named, never opened
        raise SimulatorError(f"could not load the ngspice shared library: {why}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unsupported Ngspice version")
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared

        # PySpice logs "Unsupported Ngspice version" for every ngspice newer than 34; results agree with
        # the subprocess runner (tested), so keep that notice off the user's terminal.
        logging.getLogger("PySpice").setLevel(logging.ERROR)
        _route_pyspice_log()  # ngspice's own error lines go to the log file, not the terminal

        if "NGSPICE_LIBRARY_PATH" not in os.environ:
            for cand in LIBNGSPICE_CANDIDATES:
                if os.path.exists(cand):
                    NgSpiceShared.LIBRARY_PATH = cand
                    break
        try:
            _shared = _shared_class(NgSpiceShared).new_instance()
        except Exception as exc:  # OSError, NameError from cffi
            where = os.environ.get("NGSPICE_LIBRARY_PATH") or getattr(NgSpiceShared, "LIBRARY_PATH", None)
            raise SimulatorError(f"could not load the ngspice shared library libngspice.so.0 (tried {where or 'the '}"
                                 f"{'' if where else 'default search path'}; set NGSPICE_LIBRARY_PATH or install "
                                 f"libngspice0): {str(exc).splitlines()[0].split('.  ')[0] if str(exc) else type(exc).__name__}") from exc
    return _shared


def _wait_shared(ng, timeout: float) -> None:
    """Wait for the background run of shared ngspice; halt it on timeout or Ctrl-C (SIGINT/SIGTERM)."""
    done, watch = ng._fefet_done, ng._fefet_watch
    t0 = time.monotonic()
    try:
        while not done.wait(0.05):
            if watch is not None:
                watch.check()
            if time.monotonic() - t0 > timeout:
                raise WallClockLimit(timeout, "halted")
    except BaseException:
        _halt_shared(ng)
        raise


def _halt_shared(ng) -> None:
    try:
        ng.halt()
    except Exception:  # noqa: BLE001  halting a run that just ended reports an error; nothing to do
        pass
    t0 = time.monotonic()
    while ng._ngspice_shared.ngSpice_running() and time.monotonic() - t0 < 5.0:
        time.sleep(0.005)


def run_shared(deck: str, timeout: float | None = None, budget: float | None = None) -> dict[str, np.ndarray]:
    """Run ``deck`` in PySpice's shared ngspice (one in-process instance, serialized by a lock) in
    ngspice's background thread, under a wall-clock limit (halted when it is exceeded or on Ctrl-C) and,
    with a CPU ``budget`` [s], the progress watchdog (:mod:`fefet_spice.spice.watchdog`)."""
    from .watchdog import SharedWatch, tran_stop

    timeout = sim_timeout(timeout)
    t_stop = tran_stop(deck) if budget is not None else None
    check_work(deck)
    with _shared_lock:
        ng = _load_shared()
        lines = [ln for ln in deck.splitlines() if ln.strip().lower() != ".end"]
        global _loaded
        if _loaded:
            ng.destroy()
            ng.remove_circuit()
        _loaded = True
        try:
            ng.load_circuit("\n".join(lines) + "\n.end\n")
            ng.clear_output()
            ng._fefet_done = threading.Event()
            ng._fefet_watch = SharedWatch(t_stop, budget) if t_stop else None
            if ng._ngspice_shared.ngSpice_Command(b"bg_run"):
                raise SimulatorError("ngspice (shared) refused to start the run")
        except Exception as exc:
            raise SimulatorError(f"ngspice (shared) failed: {exc}\n{ng.stdout[-1500:]}") from exc
        _wait_shared(ng, timeout)
        _check_output(ng.stdout + "\n" + ng.stderr, "run (shared)")
        if ng._error_in_stdout or ng._error_in_stderr:
            tail = (ng.stdout + "\n" + ng.stderr)[-1500:]
            raise SimulatorError(f"ngspice (shared) reported an error in the run{_logged(tail)}\n{tail}")
        name = ng.last_plot
        if name == "const":
            raise SimulatorError(f"ngspice (shared): no analysis ran\n{ng.stdout[-1500:]}")
        plot = ng.plot(None, name)
        vectors = {_vector_key(k): np.array(v._data, dtype=float) for k, v in plot.items()}
        return _check_vectors(vectors, "run (shared)")


def run(deck: str, backend: str = "auto", timeout: float | None = None,
        budget: float | None = None) -> dict[str, np.ndarray]:
    """Run ``deck`` with ``backend`` in ``{"auto", "shared", "subprocess"}``; vectors keyed lower case.
    ``timeout``: wall-clock limit [s] (default :func:`sim_timeout`); ``budget``: CPU budget [s] of the
    progress watchdog (None: no watchdog)."""
    if backend == "subprocess":
        return run_subprocess(deck, timeout, budget)
    if backend == "shared":
        return run_shared(deck, timeout, budget)
    if backend != "auto":
        raise SimulatorError(f"unknown ngspice backend {backend!r}")
    try:
        _load_shared()
    except SimulatorError as exc:
        if shutil.which("ngspice") is None:
            raise SimulatorError(f"ngspice is not installed: no 'ngspice' program on PATH, and {exc} "
                                 "(`make setup` installs ngspice and libngspice0)") from None
        return run_subprocess(deck, timeout, budget)
    return run_shared(deck, timeout, budget)
