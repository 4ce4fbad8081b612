"""Progress lines on stderr for long work: count, percentage, elapsed and estimated time left."""
from __future__ import annotations

import sys
import time

from . import interrupt


class Progress:
    """``with Progress(total, "label") as p: ... p.advance()`` prints at most every ``interval`` s. Entering,
    advancing and leaving are also the points where a Ctrl-C that a finalizer swallowed is raised again
    (:mod:`.interrupt`)."""

    def __init__(self, total: int, label: str, stream=None, interval: float = 0.5, enabled: bool = True):
        self.total, self.label, self.done = max(int(total), 1), label, 0
        self.stream = stream or sys.stderr
        self.interval, self.enabled = interval, enabled
        self.t0 = self._last = time.monotonic()

    def __enter__(self) -> "Progress":
        interrupt.check()
        return self

    def __exit__(self, *exc) -> None:
        if not exc[0]:
            interrupt.check()
            self.done = self.total
            self._print(final=True)

    def advance(self, n: int = 1, note: str = "") -> None:
        interrupt.check()
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._print(note=note)

    def _print(self, final: bool = False, note: str = "") -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.t0
        frac = self.done / self.total
        left = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        tail = f"done in {elapsed:.1f}s" if final else f"{elapsed:.1f}s elapsed, ~{left:.1f}s left"
        extra = f" {note}" if note else ""
        print(f"[{self.label}] {self.done}/{self.total} ({100 * frac:.0f}%) {tail}{extra}",
              file=self.stream, flush=True)
