"""Run independent jobs serially, on a local process pool or on a Dask cluster, with a resumable cache.

Each finished job's result is written atomically to ``cache/job_<index>.npz`` by the driver as soon as
it arrives, so an interrupted run resumes from what finished. ``cache/run.json`` holds the fingerprint
of the configuration; a cache of a different run is refused rather than mixed in.
"""
from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import DataError, ParamError

EXECUTORS = ("pool", "dask", "serial")
MAX_POOL_WORKERS = 2


def fingerprint(data: dict) -> str:
    """sha256 of a JSON-ready description of the run."""
    from ..io.atomic import dumps

    return hashlib.sha256(dumps(data).encode()).hexdigest()


class JobCache:
    """Per-job result files of one run in ``folder``."""

    def __init__(self, folder: str | os.PathLike, fp: str):
        self.folder = Path(folder)
        self.fp = fp
        marker = self.folder / "run.json"
        if marker.exists():
            try:
                old = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
            except (OSError, ValueError, AttributeError, RecursionError):  # unreadable or tampered
                old = None
            if old != fp:
                raise DataError(f"{marker}: the cache belongs to another run (different parameters, seed or "
                                "options); delete the folder or choose another --cache")
        else:
            from ..io.atomic import write_json

            write_json(marker, {"fingerprint": fp})

    def path(self, index: int) -> Path:
        return self.folder / f"job_{index:05d}.npz"

    def load(self, index: int) -> dict | None:
        """The stored result of job ``index``, or None (missing or unreadable: run it again)."""
        path = self.path(index)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception:  # noqa: BLE001  a damaged file is simply recomputed
            return None

    def store(self, index: int, result: dict) -> None:
        from ..io.atomic import atomic_path

        with atomic_path(self.path(index)) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **result)


def remove_cache(folder: str | os.PathLike) -> None:
    """Delete a job cache's own files (run.json, job_*.npz, half-written temporaries) and the folder if
    that leaves it empty; anything else in it is not ours and stays."""
    import re

    folder = Path(folder)
    own = re.compile(r"(run\.json|job_\d{5}\.npz|\.(run\.json|job_\d{5}\.npz)\..+)$")
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for p in entries:
        if own.match(p.name) and p.is_file() and not p.is_symlink():
            p.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass


PR_SET_PDEATHSIG = 1


def worker_init(parent_pid: int) -> None:
    """Pool worker setup: die with the driver (SIGKILL when it exits or crashes, Linux prctl) and leave
    Ctrl-C to the driver, which stops the pool (a worker inside ngspice cannot react to it quickly)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the driver's kill_pool still ends the workers
        pass
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(1)


DEFERRED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@contextmanager
def _signals_deferred():
    """Hold Ctrl-C, SIGTERM and SIGHUP while pool workers are spawned, and act on them afterwards.

    Blocking SIGINT in this thread keeps it from the workers (a mask is inherited across exec; the terminal
    sends Ctrl-C to the whole process group). The mask alone does not stop the interrupt here: another
    thread of this process (BLAS, ngspice) takes the signal and Python still raises it in the main thread,
    possibly inside ``Process.start`` between the exec and the write of the worker's start-up data, which
    leaves an orphan that dies with a traceback on the user's terminal. So the Python handlers only note
    the signal until every worker has started; then the one noted first is handed to its own handler."""
    import signal
    import threading

    from ..interrupt import restore_handlers

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    noted: list[int] = []
    old = {}
    mask = None
    try:
        for name in DEFERRED_SIGNALS:
            sig = getattr(signal, name, None)
            if sig is not None and callable(signal.getsignal(sig)):
                old[sig] = signal.signal(sig, lambda signum, frame: noted.append(signum))
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl-C held by the mask arrives now: noted
        restore_handlers(old)
        if noted and noted[0] in old:
            old[noted[0]](noted[0], None)  # raises (KeyboardInterrupt, Terminated) like an undeferred signal


def _quiet_thread(thread) -> None:
    """Keep an exception of ``thread`` (the manager of a pool being killed) off the user's terminal; every
    other thread's exceptions still reach the previous ``threading.excepthook``."""
    import threading

    if thread is None:
        return
    previous = threading.excepthook

    def hook(args):
        if args.thread is not thread:
            previous(args)

    threading.excepthook = hook


def kill_pool(pool) -> None:
    """Kill a ProcessPoolExecutor's workers at once and drop the jobs that have not started."""
    _quiet_thread(getattr(pool, "_executor_manager_thread", None))  # it reports the pool we break as broken
    procs = list(getattr(pool, "_processes", {}).values())
    for proc in procs:
        try:
            proc.kill()
        except (OSError, AttributeError, ValueError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        try:
            proc.join(timeout=1.0)
        except (OSError, AttributeError, ValueError, AssertionError):
            pass
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        manager.join(timeout=1.0)  # it releases the pool's semaphores; then the tracker can stop
    from ..io.tempdirs import sweep

    sweep("fefet_ng_")  # the ngspice folders of the killed workers


_REAP_REGISTERED = False


def _reap_tracker_at_exit() -> None:
    """At exit, release multiprocessing's resources, then stop and reap its resource tracker (spawn starts
    one), so that no exited process of ours is left for PID 1 to reap (container inits often never do)."""
    global _REAP_REGISTERED
    if _REAP_REGISTERED:
        return
    import atexit
    from multiprocessing import util  # noqa: F401  its exit handler is registered first, so ours runs first

    def reap():
        import threading
        import time

        try:
            from multiprocessing import resource_tracker

            deadline = time.monotonic() + 1.0  # let pool threads finish releasing their semaphores
            for t in threading.enumerate():
                if t is not threading.current_thread() and (type(t).__name__ == "_ExecutorManagerThread"
                                                            or t.name == "QueueFeederThread"):
                    t.join(max(0.0, deadline - time.monotonic()))
            util._exit_function()  # unregisters the pools' semaphores while the tracker still runs
            tracker = resource_tracker._resource_tracker
            tracker._send = lambda *a, **k: None  # exiting: a late release must neither fail nor restart it
            _stop_tracker(tracker)
        except Exception:  # noqa: BLE001  private API: best effort only
            pass

    atexit.register(reap)
    _REAP_REGISTERED = True
    # the tracker (a separate process started from this environment) warns about semaphores of workers
    # killed on Ctrl-C; they are cleaned up either way, so keep that notice off the user's terminal
    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    current = os.environ.get("PYTHONWARNINGS", "")
    if quiet not in current:
        os.environ["PYTHONWARNINGS"] = f"{current},{quiet}" if current else quiet


def _stop_tracker(tracker, wait_s: float = 0.5) -> None:
    """Close our end of the resource tracker's pipe and reap it: it leaves at end of file, which a process
    still holding the pipe delays, so after ``wait_s`` it is killed (``_stop`` would wait without limit;
    the tracker ignores SIGTERM). Killed, it cannot unlink a semaphore a dead worker leaked in /dev/shm:
    the price of an exit that cannot hang, paid only when something else still holds the pipe."""
    import signal
    import time

    fd, pid = tracker._fd, tracker._pid
    if fd is None or pid is None:
        return
    tracker._fd = tracker._pid = None
    os.close(fd)
    deadline = time.monotonic() + wait_s
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.01)


def _client(scheduler):
    """A distributed Client for ``scheduler`` (address string or an existing Client); owned flag."""
    try:
        from distributed import Client
    except ImportError:
        raise ParamError("--scheduler needs dask.distributed (pip install 'fefet_spice[dask]')") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ParamError(f"--scheduler {scheduler!r}: expected an address like tcp://host:8786")
    try:
        return Client(scheduler, timeout="10s"), True
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ParamError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler "
                         f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None


def run_jobs(fn: Callable, jobs: Sequence, on_result: Callable, executor: str = "pool", workers: int = 2,
             scheduler=None) -> None:
    """Call ``fn(job)`` for every job and ``on_result(job, result)`` in the driver as results arrive."""
    if executor not in EXECUTORS:
        raise ParamError(f"executor: must be one of {EXECUTORS}, got {executor!r}")
    if not jobs:
        return
    if executor == "serial" or (executor == "pool" and (workers <= 1 or len(jobs) == 1)):
        for job in jobs:
            on_result(job, fn(job))
    elif executor == "pool":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        n = max(1, min(int(workers), MAX_POOL_WORKERS, os.cpu_count() or 1, len(jobs)))
        # spawn: safe even when the driver already runs threads (Dask clients, BLAS pools)
        _reap_tracker_at_exit()
        pool = None
        try:
            with _signals_deferred():  # workers start here: they inherit the mask and never see Ctrl-C
                pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=worker_init, initargs=(os.getpid(),))
                futures = {pool.submit(fn, job): job for job in jobs}
            for fut in as_completed(futures):
                on_result(futures[fut], fut.result())
        except BaseException:
            if pool is not None:
                kill_pool(pool)  # interrupted or failed: stop the workers now, not after their current job
            raise
        pool.shutdown(wait=True)
    else:
        if scheduler is None:
            raise ParamError("executor 'dask' needs a scheduler address (--scheduler tcp://host:port)")
        from distributed import as_completed

        client, owned = _client(scheduler)
        futures = []
        try:
            futures = client.map(fn, list(jobs), pure=False)
            lookup = {fut.key: job for fut, job in zip(futures, jobs)}
            for fut in as_completed(futures):
                on_result(lookup[fut.key], fut.result())
        except BaseException:
            client.cancel(futures)
            raise
        finally:
            if owned:
                client.close()
