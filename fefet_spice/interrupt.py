"""Ctrl-C and SIGTERM that Python would lose: keep them, and raise them at the next checkpoint.

A signal's Python handler runs in whatever Python code the main thread executes next. When that is a
weakref callback or a ``__del__`` (a garbage collection can start one anywhere), the KeyboardInterrupt it
raises is "ignored" (printed as unraisable) and the command goes on as if Ctrl-C had never been pressed.
:func:`install` routes such an exception here instead of to the terminal; :func:`check` (called by the
progress lines, the pipeline between stages and the CLI before it reports success) raises it again where
it can stop the command.
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
