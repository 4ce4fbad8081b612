"""The ``fefet-spice`` command line: one entry point, one module per subcommand.

Subcommands live in :mod:`fefet_spice.commands`; each module defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int`` and is discovered automatically.
Errors a user can act on (:class:`~fefet_spice.errors.FefetError`) print one sentence and exit 2;
``--verbose`` shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback

from . import __version__, commands, interrupt


def _command_modules():
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{commands.__name__}.{info.name}")


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one sentence on stderr (not the whole usage block), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fefet-spice", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"fefet-spice {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks and details")
        p.add_argument("--force", action="store_true",
                       help="write into an output folder fefet-spice did not create, beside what is there: a file "
                            "fefet-spice did not write is never deleted or replaced (a name clash is refused)")
        p.add_argument("--sim-timeout", type=float, metavar="SECONDS", default=None,
                       help="wall-clock limit of every ngspice run; array decks also get half of it as CPU budget "
                            "for their first attempt and a quarter for each retry, checked by a progress watchdog "
                            f"(default $FEFET_SPICE_SIM_TIMEOUT or {DEFAULT_SIM_TIMEOUT:g} s)")
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


DEFAULT_SIM_TIMEOUT = 600.0

# Physical and practical bounds of numeric options, checked before any work: (low, high) inclusive.
# A command may bound an option more tightly in its own code; these stop runaway sizes and nonsense.
LIMITS: dict[str, tuple[float, float]] = {
    "seed": (0, 2**63 - 1), "n_devices": (1, 10_000), "n_pulses": (1, 10_000), "n_probe": (1, 10_000),
    "n_g": (2, 100_000), "n_cdf": (2, 10_000), "nodes": (2, 63), "workers": (1, 64), "epochs": (1, 10_000),
    "max_nfev": (1, 1_000_000), "min_r2": (-1e6, 1.0), "vd": (-100.0, 100.0), "vmax": (1e-6, 100.0),
    "rate": (1e-9, 1e12), "v_comp": (-100.0, 100.0), "dwell": (0.0, 1e6), "sim_timeout": (1e-3, 7 * 86400.0),
    "bins": (1, 4096), "area": (1e-20, 1.0), "holdout": (0.0, 0.9), "n_train": (1, 100_000),
    "n_test": (1, 100_000), "budget_levels": (1e-6, 1e6), "target": (1e-3, 1e6), "area_scale": (1e-3, 1e3),
    "channel_scale": (1e-3, 1e3), "traffic": (0, 100_000), "p_reverse": (0.0, 1.0),
}
WORK_LIMITS = {"simulate": 2e5, "characterize": 1e7}
"""Most device-pulses (--n-devices x --n-pulses) per command: memory and output size grow with it."""
COMMAND_LIMITS: dict[tuple[str, str], tuple[float, float]] = {("simulate", "n_devices"): (1, 1000),
                                                              ("schemes", "n_train"): (4, 1000)}


def check_limits(command: str, args) -> None:
    """Every numeric option finite and inside :data:`LIMITS` (ParamError naming the option)."""
    import math

    from .errors import LimitError

    for dest, value in sorted(vars(args).items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        flag = "--" + dest.replace("_", "-")
        if isinstance(value, float) and not math.isfinite(value):
            raise LimitError(f"{flag} must be a finite number, got {value!r}")
        lo, hi = COMMAND_LIMITS.get((command, dest), LIMITS.get(dest, (None, None)))
        if lo is not None and not lo <= value <= hi:
            raise LimitError(f"{flag} must be between {lo:g} and {hi:g}, got {value!r}")
    most = WORK_LIMITS.get(command)
    n_dev, n_pul = getattr(args, "n_devices", None), getattr(args, "n_pulses", None)
    what = "--n-pulses"
    if isinstance(n_pul, int) and getattr(args, "traffic", None):
        from .characterize.jobs import traffic_pulses_bound  # traffic pulses (with the walk's moves) count too

        n_pul, what = n_pul + traffic_pulses_bound(n_pul, args.traffic), "(--n-pulses + the --traffic pulses)"
    if most and isinstance(n_dev, int) and isinstance(n_pul, int) and n_dev * n_pul > most:
        raise LimitError(f"--n-devices x {what} = {n_dev * n_pul} is more than the {most:g} device-pulses "
                         f"`fefet-spice {command}` runs at once; split the work")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) turned into an exception, so that the same cleanup as for Ctrl-C runs."""


def _on_signal(signum, frame):  # noqa: ARG001
    raise Terminated(signum)


def _install_signal_handlers() -> dict:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    old = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            old[sig] = signal.signal(sig, _on_signal)
        except (ValueError, OSError):
            pass
    return old


def _exit_now(code: int) -> None:
    """Flush, run the atexit handlers (they stop and reap helper processes), then leave at once."""
    import atexit
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        err = os.dup(2)
    except OSError:
        err = None
    _exit_watchdog(code, err)
    _kill_children()  # multiprocessing's exit handler joins live children without a time limit
    try:  # our sentence is out; what the exit handlers of interrupted pools may print is noise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:
        pass
    atexit._run_exitfuncs()
    os._exit(code)


EXIT_CLEANUP_S = 4.0
"""Longest the clean-up after Ctrl-C or SIGTERM may take [s] (it takes about 0.05 s; its own waits are
bounded by 1 s per child, 1 s for the pool threads and 0.5 s for the resource tracker); after it the
program says where the clean-up waited and leaves with the same exit code (exit code 1 if even that
cannot run, at three times this)."""


def _exit_watchdog(code: int, err_fd: int | None) -> None:
    """Bound the exit handlers: a pool or resource tracker left in a state that one of multiprocessing's
    untimed joins waits on must not keep an interrupted command alive."""
    import faulthandler
    import os
    import threading
    import time

    def fire():
        time.sleep(EXIT_CLEANUP_S)
        if err_fd is not None:
            try:
                os.write(err_fd, f"fefet-spice: the clean-up did not finish within {EXIT_CLEANUP_S:g} s; "
                                 "leaving without it. It waited here:\n".encode())
                faulthandler.dump_traceback(file=err_fd, all_threads=True)
            except (OSError, ValueError):
                pass
        os._exit(code)

    threading.Thread(target=fire, name="fefet-exit-watchdog", daemon=True).start()
    try:  # in case a C call holds the interpreter: faulthandler's own thread needs no lock (exit code 1)
        faulthandler.dump_traceback_later(3 * EXIT_CLEANUP_S, exit=True,
                                          file=err_fd if err_fd is not None else sys.__stderr__)
    except (OSError, ValueError, AttributeError, TypeError):
        pass


def _kill_children() -> None:
    """Kill the worker processes still alive (a pool interrupted while it started them), then reap them."""
    if "multiprocessing" not in sys.modules:
        return
    import multiprocessing

    try:
        children = multiprocessing.active_children()
    except (OSError, ValueError, AssertionError):
        return
    for proc in children:
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for proc in children:
        try:
            proc.join(timeout=1.0)
        except (OSError, ValueError, AssertionError):
            pass


def _parse(argv: list[str] | None):
    """Build the parser (it imports every subcommand) and read the arguments; Ctrl-C meanwhile is one line."""
    try:
        return build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("fefet-spice: interrupted during start-up", file=sys.stderr)
        if argv is None:
            _exit_now(130)
        raise SystemExit(130) from None


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    verbose = getattr(args, "verbose", False)
    import os

    old = _install_signal_handlers()
    interrupt.install()
    old_timeout = os.environ.get("FEFET_SPICE_SIM_TIMEOUT")
    marked: list = []
    try:
        from .io.outdir import mark, prepare_outputs

        check_limits(args.command, args)
        if getattr(args, "sim_timeout", None) is not None:
            os.environ["FEFET_SPICE_SIM_TIMEOUT"] = repr(args.sim_timeout)  # spawned workers inherit it
        marked = prepare_outputs(args.command, args)
        try:
            code = int(args._run(args) or 0)
            interrupt.check()  # a Ctrl-C a finalizer swallowed still ends the command as interrupted
            return code
        finally:
            for folder in marked:
                mark(folder, args.command)
    except KeyboardInterrupt as exc:
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"fefet-spice {args.command}: {what} (finished results and caches are kept)", file=sys.stderr)
        code = 143 if isinstance(exc, Terminated) else 130
        if argv is None:  # the program itself (not a caller in-process): exit now, skip slow finalizers
            _exit_now(code)  # (a loaded libngspice takes seconds to unload)
        return code
    except BaseException as exc:  # noqa: BLE001  every failure ends in one sentence unless --verbose
        if isinstance(exc, SystemExit):
            raise
        from .errors import describe

        text, code = describe(exc)
        if "did not converge" in text.partition("\n")[0] and args.command != "run":
            src = [f"{flag} {getattr(args, d)}" for d, flag in (("params", "--params"), ("weight", "--weight"),
                                                                ("preset", "--preset"), ("sparsity", "--sparsity"))
                   if getattr(args, d, None)]
            first, nl, rest = text.partition("\n")
            text = f"{first} (device parameters: {', '.join(src)}){nl}{rest}" if src else text
        if verbose:
            traceback.print_exc()
        first, _, rest = text.strip().partition("\n")
        hint = " (--verbose shows the details)" if (rest or code != 2) and not verbose else ""
        print(f"fefet-spice {args.command}: error: {text.strip() if verbose else first}{hint}", file=sys.stderr)
        return code
    finally:
        from .io.outdir import release_all

        release_all()
        interrupt.restore_handlers(old)
        interrupt.uninstall()
        if old_timeout is None:
            os.environ.pop("FEFET_SPICE_SIM_TIMEOUT", None)
        else:
            os.environ["FEFET_SPICE_SIM_TIMEOUT"] = old_timeout


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # between the interpreter's start and main(): still one line
        print("fefet-spice: interrupted during start-up", file=sys.stderr)
        sys.exit(130)
