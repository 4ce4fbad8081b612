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


SHOWN_CHARS = 60
"""Most characters of an input's field or line that a message quotes (:func:`shown`)."""
MESSAGE_CHARS = 1000
"""Most characters of one line of a message :func:`describe` passes on (a backstop behind :func:`shown`)."""
MESSAGE_LINES = 200
"""Most lines of a message :func:`describe` passes on (``--verbose`` shows them all)."""


def shown(text: object, limit: int = SHOWN_CHARS) -> str:
    """``text`` quoted for a message: ``repr()`` of at most ``limit`` characters (control bytes and NULs
    escaped), with '…' when it was cut. Every message that quotes a field, a cell or a line of an input
    file goes through this, so a 50 MB line or a binary file cannot flood the terminal."""
    text = str(text)
    head = text[:limit]
    while len(repr(head)) > limit + 2:  # escapes (\x00) take up to 10 characters each
        head = head[:min(len(head) - 1, len(head) * limit // len(repr(head)))]
    return repr(head) + ("…" if len(head) < len(text) else "")


def shown_list(items, limit: int = 8, chars: int = 30) -> str:
    """Comma-separated :func:`shown` of at most ``limit`` items (of ``chars`` characters each), '…' for more."""
    items = list(items)
    out = ", ".join(shown(x, chars) for x in items[:limit])
    return out + (f", … ({len(items)} in all)" if len(items) > limit else "")


def _bounded(text: str) -> str:
    """``text`` with every line cut at :data:`MESSAGE_CHARS` characters ('…'), at most :data:`MESSAGE_LINES`
    lines, control characters escaped."""
    lines = text.split("\n")
    out = []
    for line in lines[:MESSAGE_LINES]:
        cut = len(line) > MESSAGE_CHARS
        line = line[:MESSAGE_CHARS]
        if not line.isprintable():
            line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
            cut, line = cut or len(line) > MESSAGE_CHARS, line[:MESSAGE_CHARS]
        out.append(line + ("…" if cut else ""))
    if len(lines) > MESSAGE_LINES:
        out.append(f"… ({len(lines) - MESSAGE_LINES} more lines)")
    return "\n".join(out)


def describe(exc: BaseException) -> tuple[str, int]:
    """One sentence for ``exc`` and the exit status: 2 for what a user can act on, 1 for a bug."""
    if isinstance(exc, FefetError):
        return _bounded(str(exc)) or type(exc).__name__, 2
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
    text = _bounded(str(exc).strip().splitlines()[0]) if str(exc).strip() else ""
    return f"internal error ({type(exc).__name__}{': ' + text if text else ''}); please report it", 1
