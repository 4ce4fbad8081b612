"""Ctrl-C and SIGTERM that Python would lose: keep them, and raise them at the next checkpoint.

A signal's Python handler runs in whatever Python code the main thread executes next. When that is a
weakref callback or a ``__del__`` (a garbage collection can start one anywhere), the KeyboardInterrupt it
raises is "ignored" (printed as unraisable) and the command goes on as if Ctrl-C had never been pressed.
:func:`install` routes such an exception here instead of to the terminal; :func:`check` (called by the
progress lines, the pipeline between stages and the CLI before it reports success) raises it again where
it can stop the command. :func:`restore_handlers` puts signal handlers back after a command or a hold
(the CLI's, the pool's start-up).
"""
from __future__ import annotations

import sys

_PENDING: list[BaseException] = []
_PREVIOUS = None


def _hook(unraisable) -> None:
    exc = getattr(unraisable, "exc_value", None)
    if isinstance(exc, KeyboardInterrupt):  # also the CLI's Terminated (SIGTERM, SIGHUP)
        _PENDING.append(exc)
        return
    (_PREVIOUS or sys.__unraisablehook__)(unraisable)


def install() -> None:
    """Route interrupts raised inside finalizers to :func:`check` (idempotent)."""
    global _PREVIOUS
    if sys.unraisablehook is not _hook:
        _PREVIOUS = sys.unraisablehook
        sys.unraisablehook = _hook


def uninstall() -> None:
    """Restore the previous hook and forget what is pending (an in-process caller's next command starts clean)."""
    global _PREVIOUS
    if sys.unraisablehook is _hook:
        sys.unraisablehook = _PREVIOUS or sys.__unraisablehook__
    _PREVIOUS = None
    _PENDING.clear()


def check() -> None:
    """Raise the first interrupt a finalizer swallowed since the last check, if any."""
    if _PENDING:
        exc = _PENDING[0]
        _PENDING.clear()
        raise exc.with_traceback(None)


def restore_handlers(old: dict) -> None:
    """Put back the signal handlers ``old`` maps (signal -> handler), every one of them even if a signal's
    handler raises while one is restored (a handler left behind could make the host ignore Ctrl-C)."""
    import signal

    items = list(old.items())
    for i, (sig, handler) in enumerate(items):
        try:
            signal.signal(sig, handler)
        except BaseException:
            restore_handlers(dict(items[i + 1:]))
            raise
