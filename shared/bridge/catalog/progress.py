"""Progress of a long run (the initial load): counts, rate and ETA in the log and on the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable

from bridge.observability import logger

type Sink = Callable[[str], None]


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
