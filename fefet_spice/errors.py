"""Exceptions shared by every layer; the CLI turns them into one clear sentence."""


class FefetError(Exception):
    """Base class: an error a user can act on (bad file, bad parameter, missing tool)."""


class ParamError(FefetError, ValueError):
    """A parameter set failed validation; the message names the field."""


class DataError(FefetError, ValueError):
    """An input file could not be used; the message names the file and line."""


class SimulatorError(FefetError, RuntimeError):
    """ngspice is missing, or a run failed or did not converge."""


class WallClockLimit(SimulatorError):
    """An ngspice run stopped at its wall-clock limit (``--sim-timeout`` / ``$FEFET_SPICE_SIM_TIMEOUT``)."""

    def __init__(self, timeout: float, how: str = "stopped"):
        super().__init__(f"ngspice run exceeded the wall-clock limit of {timeout:g} s ({how}; "
                         "--sim-timeout or $FEFET_SPICE_SIM_TIMEOUT sets it)")


class LimitError(ParamError):
    """A size, count or duration beyond what fefet-spice will attempt (checked before any work)."""


def describe(exc: BaseException) -> tuple[str, int]:
    """One sentence for ``exc`` and the exit status: 2 for what a user can act on, 1 for a bug."""
    if isinstance(exc, FefetError):
        return str(exc) or type(exc).__name__, 2
    if isinstance(exc, RecursionError):
        return "an input is nested too deeply (JSON nesting beyond the recursion limit)", 2
    if isinstance(exc, (OverflowError, FloatingPointError)):
        return "a number overflowed: an input value is too large for the computation", 2
    if isinstance(exc, MemoryError):
        return "out of memory: the requested sizes are too large for this machine", 2
    if isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else None
        reason = exc.strerror or str(exc) or type(exc).__name__
        if name is not None:
            other = f" -> {exc.filename2}" if exc.filename2 is not None else ""
            return f"{name}{other}: {reason}", 2
        if isinstance(exc, (ConnectionError, TimeoutError)) or "connect" in reason.lower():
            return f"cannot connect: {reason}", 2
        return f"system error: {reason}", 2
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"internal error ({type(exc).__name__}{': ' + text if text else ''}); please report it", 1
