"""A progress line on stderr for long runs in a terminal: files done / total, findings so far."""

from __future__ import annotations

import os
import time


def wanted(stream, machine_format: bool) -> bool:
    """Only for a person watching: stderr a terminal, not CI, not a machine-read format."""
    isatty = getattr(stream, "isatty", lambda: False)()
    return isatty and not machine_format and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


class ProgressLine:
    """Call with (done, total, findings) after each file; it shows itself only after `delay` seconds."""

    def __init__(self, stream, delay: float = 2.0, clock=time.monotonic):
        self.stream, self.delay, self.clock = stream, delay, clock
        self.started = clock()
        self.shown_at = None
        self.width = 0

    def __call__(self, done: int, total: int, findings: int) -> None:
        now = self.clock()
        recent = self.shown_at is not None and now - self.shown_at < 0.1 and done < total
        if now - self.started < self.delay or recent:
            return
        self.shown_at = now
        line = f"actlint: {done}/{total} files, {findings} finding{'s' if findings != 1 else ''}"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
