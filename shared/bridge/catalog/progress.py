"""Progress of a long run (the initial load): counts, rate and ETA in the log and on the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypedDict

from bridge.observability import logger

type Sink = Callable[[str], None]


class RunOptions(TypedDict, total=False):
    """How a catalog run goes: `dry_run` writes nothing, `sink` gets progress lines,
    `should_stop` ends the run early (the Lambda's time budget)."""

    dry_run: bool
    sink: Sink | None
    should_stop: Callable[[], bool]


def run_options(options: RunOptions) -> tuple[bool, Sink | None, Callable[[], bool]]:
    """(dry_run, sink, should_stop) with their defaults: a real run, no progress lines, no limit."""
    return options.get("dry_run", False), options.get("sink"), options.get("should_stop", lambda: False)


class Progress:
    def __init__(
        self,
        label: str,
        total: int,
        *,
        sink: Sink | None = None,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._sink = sink
        self._every_s = every_s
        self._clock = clock
        self._started = clock()
        self._reported = self._started

    def advance(self, count: int) -> None:
        self.done += count
        now = self._clock()
        if now - self._reported >= self._every_s or self.done >= self.total:
            self._reported = now
            self.report()

    def line(self) -> str:
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.done / elapsed
        remaining = max(self.total - self.done, 0)
        eta = f"{remaining / rate:.0f} s" if rate > 0 else "?"
        return f"{self.label}: {self.done}/{self.total} ({rate:.1f}/s, ETA {eta})"

    def report(self) -> None:
        text = self.line()
        logger.info(text, extra={"progress": self.label, "done": self.done, "total": self.total})
        if self._sink is not None:
            self._sink(text)
