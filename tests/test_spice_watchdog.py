"""The progress watchdog of ngspice runs (simulated time per CPU second) and the run ladder, with the real
ngspice: a deck that progresses too slowly is halted long before its budget and the ladder moves on; a
normal deck is not halted and gives the same result as an unwatched run."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from fefet_spice.errors import SimulatorError
from fefet_spice.spice import runner
from fefet_spice.spice.array import ArrayConfig, _run_with_retry, array_deck, ladder
from fefet_spice.spice.deck import SolverOptions
from fefet_spice.spice.device import binned_device
from fefet_spice.spice.library import vau_deck
from fefet_spice.spice.watchdog import LADDER_COUNTS, SlowProgress, Watchdog, control_deck, run_ladder

pytestmark = pytest.mark.skipif(runner.shutil.which("ngspice") is None, reason="ngspice not installed")

# 1e7 forced steps of 10 ps of a 40-section RC line: many minutes of CPU for 100 us simulated (the output
# window is the last 1 %)
def _line(sections: int, title: str) -> str:
    return "\n".join([f"* {title}: forced 10 ps steps", "V1 n0 0 PULSE(0 1 0 1n 1n 1u 2u)"] +
                     [f"R{k} n{k} n{k + 1} 1k\nC{k} n{k + 1} 0 1p" for k in range(sections)] +
                     [".tran 1e-11 1e-4 0.99e-4 1e-11 uic", f".save v(n{sections})", ".end"]) + "\n"


SLOW = _line(40, "slow rc")
# the same over a 1,000-section line: ~25x the CPU of SLOW, a stall (> 100x) for budgets of a few seconds
STALL = _line(1000, "stalled rc")
FAST = SLOW.replace("1e-11 1e-4 0.99e-4 1e-11", "1e-9 2e-6 1.9e-6 1e-9").replace("slow rc", "fast rc")
BACKENDS = ["subprocess", "shared"]


def _shared_ok() -> bool:
    try:
        runner._load_shared()
    except SimulatorError:
        return False
    return True


@pytest.mark.parametrize("backend", ["subprocess", pytest.param("shared", marks=pytest.mark.slow)])
def test_slow_deck_is_halted_early_and_the_ladder_moves_on(backend):
    if backend == "shared" and not _shared_ok():
        pytest.skip("no ngspice shared library")
    halted = []

    def make(att):
        return STALL if att == "slow" else FAST

    t0 = time.monotonic()
    try:
        runner.run(SLOW, backend=backend, timeout=120.0, budget=4.0)
    except SlowProgress as exc:
        halted.append(exc)
    wall = time.monotonic() - t0
    assert halted, "the slow deck was not halted"
    exc = halted[0]
    # it needs ~70 s of CPU: halted after 30 % of its 4 s budget, far below its 120 s wall limit
    assert exc.cpu < 0.6 * 4.0 and wall < 0.5 * 120.0
    assert 0 < exc.t_reached < 0.2 * exc.t_stop and exc.rate * 4.0 < exc.t_stop
    assert "s simulated per CPU second" in str(exc)
    vec = run_ladder(make, ["slow", "fast"], str, 8.0, (0.5, 0.5), backend, wall_total=240.0)
    assert vec["time"][-1] == pytest.approx(2e-6)


@pytest.mark.slow
def test_last_rung_gives_up_in_one_sentence_naming_deck_rung_time_and_rate():
    with pytest.raises(SimulatorError) as info:
        run_ladder(lambda att: STALL, ["first", "second"], lambda a: f"rung {a}", 8.0, (0.5, 0.5), "subprocess",
                   wall_total=240.0)
    text = str(info.value)
    assert "\n" not in text and "'stalled rc: forced 10 ps steps'" in text
    assert "last attempt, rung second (halted: reached" in text and "before it rung first" in text
    assert "s simulated per CPU second" in text


def test_array_ladder_moves_from_trap_to_gear_on_slow_progress(weight, sparsity, monkeypatch):
    """The array deck's ladder with the watchdog: an attempt that stalls (here the trap attempt runs the
    forced-step 1,000-section deck, > 100x over its 6 s budget) is halted after the grace and gear runs the
    array deck."""
    cfg = ArrayConfig(r_line=50.0, bins_weight=4, bins_sparsity=1)
    _, case = vau_deck(weight, sparsity, 2, 2, seed=1, cfg=cfg)
    wdev, sdev = binned_device(weight, cfg.bins_weight), binned_device(sparsity, cfg.bins_sparsity)
    seen = []

    def make(o):
        seen.append(o.method)
        return STALL if o.method == "trap" else array_deck(wdev, sdev, case["state"], case["schedule"], cfg, o)

    monkeypatch.setenv("FEFET_SPICE_SIM_TIMEOUT", "12")
    opts = SolverOptions(method="trap")
    assert [o.method for o in ladder(opts)] == ["trap", "gear", "gear"]
    before = dict(LADDER_COUNTS)
    vec = _run_with_retry(make, opts, "subprocess")
    assert seen == ["trap", "gear"]
    # halted by the watchdog after ~1 s of CPU (or, on a machine so loaded that this takes over 6 s of wall
    # time, by the wall-clock backstop): either way the ladder moved on
    assert LADDER_COUNTS["halted"] + LADDER_COUNTS["failed"] - before["halted"] - before["failed"] == 1
    direct = runner.run(array_deck(wdev, sdev, case["state"], case["schedule"], cfg, ladder(opts)[1]),
                        backend="subprocess")
    for key in direct:
        assert np.array_equal(vec[key][-1], direct[key][-1]), key


@pytest.mark.parametrize("backend", BACKENDS)
def test_normal_array_deck_is_not_halted_and_matches_the_unwatched_run(weight, sparsity, backend):
    """A 3x3 deck with 200 ohm lines, watched with a CPU budget of 20 s (it needs ~1 s): not halted, and
    the final states are those of the plain run (the subprocess watchdog's .control rewrite included)."""
    if backend == "shared" and not _shared_ok():
        pytest.skip("no ngspice shared library")
    cfg = ArrayConfig(r_line=200.0, bins_weight=4, bins_sparsity=1)
    _, case = vau_deck(weight, sparsity, 3, 3, seed=2, cfg=cfg)
    deck = array_deck(binned_device(weight, cfg.bins_weight), binned_device(sparsity, cfg.bins_sparsity),
                      case["state"], case["schedule"], cfg, SolverOptions())
    assert control_deck(deck, "x.raw").count("tran ") == 1 and "set interp" in control_deck(deck, "x.raw")
    watched = runner.run(deck, backend=backend, timeout=120.0, budget=20.0)
    plain = runner.run(deck, backend=backend)
    keys = [k for k in plain if k.startswith("v(xw")]
    assert keys and all(watched[k][-1] == plain[k][-1] for k in keys)


def test_watchdog_rate_and_verdict():
    """The rule on recorded samples: judged after the grace, on the rate over the last half of the CPU."""
    dog = Watchdog(t_stop=1.0, budget=100.0)
    assert dog.grace == 5.0
    for c in range(1, 11):
        dog.progress(float(c), 0.02 * c)  # 0.02 s simulated per CPU second: needs 50 s in all
    assert dog.verdict(4.0) is None and dog.verdict(10.0) is None
    assert dog.rate(10.0) == pytest.approx(0.02)
    # a stall: no progress after 10 s of CPU; at 20 s the last half has advanced nothing
    why = dog.verdict(20.0)
    assert why and "reached 0.2 of 1 s simulated" in why
    silent = Watchdog(t_stop=1.0, budget=100.0)  # no report at all: only the budget halts it
    assert silent.verdict(50.0) is None and "reported no progress" in silent.verdict(101.0)
    def first_halt(rate_per_cpu_s):
        dog = Watchdog(t_stop=1.0, budget=100.0)
        for c in range(1, 100):
            dog.progress(float(c), rate_per_cpu_s * c)
            why = dog.verdict(float(c))
            if why:
                return c, why
        return None, None

    # needs 200 s, twice the budget: a mild shortfall (slow pulse edges early on) is judged from 30 % on
    c, why = first_halt(0.005)
    assert c == 30 and "0.005 s simulated per CPU second" in why
    # needs 1e5 s, 1000 times the budget: a stall, halted right after the grace
    c, why = first_halt(1e-5)
    assert c == 5 and "1e-05 s simulated per CPU second" in why
    assert first_halt(0.011) == (None, None)  # needs 91 s: runs to the end
