"""``apply --wait``'s progress: a live display on a terminal, plain lines otherwise.

On a terminal, rich draws one bar with started, running, succeeded, failed, remaining,
the rate of runs ending and the time left; piped (CI logs), a plain line now and then,
never a control character. Both are told ``(started, succeeded, failed, total)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

PLAIN_EVERY = 10.0  # seconds between two plain lines (and one with the final counts)


def counts_text(started: int, succeeded: int, failed: int, total: int) -> str:
    running = max(started - succeeded - failed, 0)
    remaining = max(total - started, 0)
    return (
        f"{started} started, {running} running, {succeeded} succeeded, {failed} failed, "
        f"{remaining} remaining"
    )


class LiveProgress:
    """The rich display, on ``stream`` (a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console  # (only a terminal pays for importing rich)
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("runs"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[counts]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream, force_terminal=True),
            transient=False,
        )
        self.task = self.progress.add_task("runs", total=None, counts="", rate="")
        self.began = time.monotonic()
        self.progress.start()

    def update(self, started: int, succeeded: int, failed: int, total: int) -> None:
        ended = succeeded + failed
        elapsed = max(time.monotonic() - self.began, 1e-6)
        self.progress.update(
            self.task,
            total=max(total, 1),
            completed=ended,
            counts=counts_text(started, succeeded, failed, total),
            rate=f"{ended / elapsed * 60:.1f}/min",
        )

    def close(self) -> None:
        self.progress.stop()


class PlainProgress:
    """A plain line on ``stream`` at most every ``PLAIN_EVERY`` seconds."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.last = -PLAIN_EVERY
        self.shown = self.latest = ""

    def update(self, started: int, succeeded: int, failed: int, total: int) -> None:
        self.latest = counts_text(started, succeeded, failed, total)
        now = self.clock()
        if self.latest != self.shown and now - self.last >= PLAIN_EVERY:
            self._show()
            self.last = now

    def _show(self) -> None:
        self.stream.write(f"progress: {self.latest}\n")
        self.stream.flush()
        self.shown = self.latest

    def close(self) -> None:
        """The last counts, if the last line did not show them."""
        if self.latest != self.shown:
            self._show()


def progress_display(stream: TextIO) -> LiveProgress | PlainProgress:
    return LiveProgress(stream) if stream.isatty() else PlainProgress(stream)
