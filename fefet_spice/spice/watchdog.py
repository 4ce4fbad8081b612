"""Progress watchdog of an ngspice run: simulated time advanced per CPU second of ngspice.

While a run goes, the watchdog follows how far the transient has got (shared library: ngspice's status
callback, ``tran: 12.3%``; subprocess: the ``Reference value : <time>`` lines ngspice prints on stderr
about every 0.25 s of its CPU) and how much CPU ngspice has used (its background thread, or the child
process, read from ``/proc``). After a grace of :data:`GRACE_FRACTION` of the budget (at least
:data:`GRACE_MIN_S`), it measures the rate over the last half of the CPU used so far and projects the
CPU the run needs at that rate: used + remaining simulated time / rate (before the first progress report,
only the budget itself counts). When that exceeds :data:`STALL_FACTOR` times the budget, or, once
:data:`SLOW_FRACTION` of the budget is used, the budget itself, the run is halted and :class:`SlowProgress` raised,
naming the simulated time reached and the measured rate, so that the run ladder (:func:`run_ladder`) moves
on to its next attempt at once instead of waiting for a wall-clock limit.

In batch mode ngspice prints progress only while it writes output, and our decks keep output only from
the last segment on; the subprocess watchdog therefore runs the deck's ``.tran`` from a ``.control``
block with ``set interp`` (output interpolated on the ``.tran`` step grid, so the output stays bounded
however many steps ngspice takes), which gives identical final values (tested).
"""
from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path

from ..errors import SimulatorError, WallClockLimit

GRACE_FRACTION = 0.05
"""Part of the CPU budget a run may use before it is judged [-] (parsing, set-up, first steps)."""
GRACE_MIN_S = 1.0
"""Least CPU a run may use before it is judged [s]."""
STALL_FACTOR = 100.0
"""From the grace on, a run is halted when at its measured rate it would need more than this many times
its budget [-] (a stall: trap ringing on an 8x8 line deck ran 1e4 times too slowly). Progress is far from
uniform in simulated time: the pulse edges at the start of a VAU deck cost most of its CPU (gear on a
tightened 8x8 deck ran 10-20 times slower there than its budget allows), so a milder shortfall is judged
only later."""
SLOW_FRACTION = 0.3
"""From this part of the budget on, a run is halted as soon as at its measured rate it would exceed its
budget [-]."""
MAX_OUTPUT_POINTS = 100_000
"""Most interpolated output points of a watched subprocess run (coarser step grid beyond) [-]."""
POLL_S = 0.1
"""Interval of the watchdog's checks [s]."""
LADDER_COUNTS = {"attempts": 0, "halted": 0, "failed": 0, "gave_up": 0}
"""Counters of :func:`run_ladder` in this process (attempts started, halted by the watchdog, failed
otherwise, ladders that gave up); benchmarks record their difference over a run."""

_STAT = re.compile(r"tran:\s*([0-9.]+)\s*%")
_REF = re.compile(rb"Reference value\s*:\s*([-+0-9.eE]+)")
_TRAN = re.compile(r"^\s*\.tran\s+(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+(\S+))?(\s+uic)?\s*$", re.IGNORECASE | re.MULTILINE)
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class SlowProgress(SimulatorError):
    """A run halted by the watchdog: at its measured rate it would exceed its CPU budget."""

    def __init__(self, message: str, t_reached: float, t_stop: float, rate: float, cpu: float):
        super().__init__(message)
        self.t_reached, self.t_stop, self.rate, self.cpu = t_reached, t_stop, rate, cpu


def proc_cpu(path: str) -> float | None:
    """utime + stime [s] from a ``/proc/.../stat`` file, or None when it is gone or absent."""
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def deck_title(deck: str) -> str:
    """The deck's title line without its ``*`` (what the give-up sentence calls the deck)."""
    first = deck.lstrip().splitlines()[0] if deck.strip() else ""
    return first.lstrip("* ").split(" (fefet_spice")[0] or "ngspice deck"


class Watchdog:
    """Judges one run from (simulated time, CPU) samples against a CPU budget [s]."""

    def __init__(self, t_stop: float, budget: float):
        self.t_stop, self.budget = float(t_stop), float(budget)
        self.grace = max(GRACE_MIN_S, GRACE_FRACTION * self.budget)
        self.samples: list[tuple[float, float]] = [(0.0, 0.0)]  # (cpu [s], simulated time [s])
        self._lock = threading.Lock()

    def progress(self, cpu: float, t_sim: float) -> None:
        with self._lock:
            if t_sim >= self.samples[-1][1]:
                self.samples.append((cpu, t_sim))

    def reached(self) -> float:
        return self.samples[-1][1]

    def rate(self, cpu: float) -> float:
        """Simulated time per CPU second over the last half of the CPU used [s/s]."""
        with self._lock:
            since = 0.5 * cpu
            before = [s for s in self.samples if s[0] <= since]
            c0, t0 = before[-1] if before else self.samples[0]
            t1 = self.samples[-1][1]
        return (t1 - t0) / max(cpu - c0, 1e-9)

    def verdict(self, cpu: float) -> str | None:
        """None while the run may go on, else why it is halted (one clause)."""
        if cpu < self.grace:
            return None
        if len(self.samples) == 1:  # no progress reported yet (or a build that reports none): the budget
            return None if cpu <= self.budget else (
                f"reported no progress of the {self.t_stop:.3g} s simulated within its {self.budget:.0f} s CPU budget")
        rate = self.rate(cpu)
        remaining = self.t_stop - self.reached()
        need = cpu + (remaining / rate if rate > 0 else float("inf"))
        if need <= (self.budget if cpu >= SLOW_FRACTION * self.budget else STALL_FACTOR * self.budget):
            return None
        return (f"reached {self.reached():.3g} of {self.t_stop:.3g} s simulated after {cpu:.1f} s of CPU at "
                f"{rate:.3g} s simulated per CPU second (finishing within its {self.budget:.0f} s CPU budget "
                f"needs {remaining / max(self.budget - cpu, 1e-9):.3g})")

    def stop(self, cpu: float, why: str) -> SlowProgress:
        return SlowProgress(f"ngspice made too little progress: {why}", self.reached(), self.t_stop,
                            self.rate(cpu), cpu)


def tran_stop(deck: str) -> float | None:
    """t_stop [s] of the deck's single ``.tran`` line, or None (none, several, or not plain numbers)."""
    hits = _TRAN.findall(deck)
    if len(hits) != 1:
        return None
    try:
        return float(hits[0][1])
    except ValueError:
        return None


def control_deck(deck: str, raw: str) -> str | None:
    """The deck with its ``.tran`` run from a ``.control`` block that interpolates output on the step grid
    from t = 0 (so ngspice prints progress) and writes ``raw``; None when the deck cannot be rewritten."""
    hits = list(_TRAN.finditer(deck))
    if len(hits) != 1 or re.search(r"^\s*\.control", deck, re.IGNORECASE | re.MULTILINE):
        return None
    m = hits[0]
    try:
        step, stop = float(m.group(1)), float(m.group(2))
    except ValueError:
        return None
    step = max(step, stop / MAX_OUTPUT_POINTS)
    tmax = f" {m.group(4)}" if m.group(4) else ""
    tran = f"tran {step:.9e} {m.group(2)} 0{tmax}{' uic' if m.group(5) else ''}"
    body = deck[:m.start()] + deck[m.end():]
    lines = [ln for ln in body.splitlines() if ln.strip().lower() != ".end"]
    return "\n".join(lines + [".control", "set interp", tran, f"write {raw}", ".endc", ".end"]) + "\n"


def watch_subprocess(exe: str, cir: Path, cwd: str, t_stop: float, budget: float, timeout: float,
                     preexec=None) -> tuple[str, int]:
    """Run ``ngspice -b cir`` under the watchdog; (stdout + stderr, return code). Raises
    :class:`SlowProgress` or :class:`~fefet_spice.errors.WallClockLimit` after killing ngspice."""
    proc = subprocess.Popen([exe, "-b", str(cir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            preexec_fn=preexec)
    dog = Watchdog(t_stop, budget)
    out: dict[str, bytes] = {"out": b"", "err": b""}
    stat = f"/proc/{proc.pid}/stat"
    last = [0.0]

    def cpu() -> float:
        c = proc_cpu(stat)
        last[0] = c if c is not None else last[0]
        return last[0]

    def pump(stream, key):
        while True:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                return
            out[key] += chunk
            if key == "err":
                hits = _REF.findall(out[key][-4096:])
                if hits:
                    try:
                        dog.progress(cpu(), float(hits[-1]))
                    except ValueError:
                        pass

    readers = [threading.Thread(target=pump, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "err"), daemon=True)]
    for r in readers:
        r.start()
    t0 = time.monotonic()
    try:
        while proc.poll() is None:
            time.sleep(POLL_S)
            if proc.poll() is not None:
                break
            why = dog.verdict(cpu())
            if why:
                raise dog.stop(last[0], why)
            if time.monotonic() - t0 > timeout:
                raise WallClockLimit(timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for r in readers:
            r.join(5.0)
        proc.stdout.close()
        proc.stderr.close()
    return out["out"].decode("utf-8", "replace") + "\n" + out["err"].decode("utf-8", "replace"), proc.returncode


class SharedWatch:
    """The watchdog of a shared-library run: fed by ngspice's status callback in its background thread
    (``tran: x%`` and that thread's CPU), checked by the waiting thread."""

    def __init__(self, t_stop: float, budget: float):
        self.dog = Watchdog(t_stop, budget)
        self.tid: int | None = None
        self.base = time.process_time()
        self.last = 0.0

    def stat(self, message: str) -> None:
        """Status callback (ngspice's background thread)."""
        hit = _STAT.search(message)
        if hit:
            if self.tid is None:
                self.tid = threading.get_native_id()
            self.dog.progress(time.thread_time(), float(hit.group(1)) / 100.0 * self.dog.t_stop)

    def cpu(self) -> float:
        c = proc_cpu(f"/proc/self/task/{self.tid}/stat") if self.tid is not None else None
        if c is None:  # before the first report, or without /proc: the process's CPU
            c = time.process_time() - self.base
        self.last = max(self.last, c)
        return self.last

    def check(self) -> None:
        cpu = self.cpu()
        why = self.dog.verdict(cpu)
        if why:
            raise self.dog.stop(cpu, why)


def run_ladder(make_deck, attempts: list, describe, budget_total: float, shares, backend: str,
               what: str = "the deck", wall_total: float | None = None) -> dict:
    """Run ``make_deck(attempt)`` for each attempt in turn under the watchdog until one succeeds.

    Attempt k gets a CPU budget of ``shares[k] * budget_total`` [s] and, as a backstop, the wall-clock
    time left of ``wall_total`` (default ``budget_total``; at least its share of it). It is abandoned when the watchdog halts it, ngspice stops on a too small
    time step or does not converge, or the wall clock runs out; ``describe(attempt)`` names it. When the
    last attempt gives up, one sentence names the deck, the attempt, the simulated time reached and the
    measured rate."""
    from . import runner

    t0 = time.monotonic()
    wall_total = budget_total if wall_total is None else wall_total
    tried, title = [], None
    for k, (att, share) in enumerate(zip(attempts, shares)):
        deck = make_deck(att)
        title = title or deck_title(deck)
        wall = max(wall_total - (time.monotonic() - t0), share * wall_total)
        LADDER_COUNTS["attempts"] += 1
        try:
            return runner.run(deck, backend=backend, timeout=wall, budget=share * budget_total)
        except SlowProgress as exc:
            LADDER_COUNTS["halted"] += 1
            tried.append(f"{describe(att)} (halted: {str(exc).split(': ', 1)[1]})")
        except WallClockLimit:
            LADDER_COUNTS["failed"] += 1
            tried.append(f"{describe(att)} (wall-clock limit)")
        except SimulatorError as exc:
            text = str(exc).lower()
            if "timestep too small" not in text and "did not converge" not in text:
                raise
            LADDER_COUNTS["failed"] += 1
            tried.append(f"{describe(att)} (no convergence)")
    LADDER_COUNTS["gave_up"] += 1
    raise SimulatorError(f"ngspice gave up on {what} {title!r} at its last attempt, " + tried[-1] +
                         ("; before it " + "; ".join(tried[:-1]) if tried[:-1] else "") +
                         ": use the quasi-static mode, fewer cells per deck or a larger --sim-timeout")
