"""A clock the test moves: read it (`clock()` or call it), sleep on it (moves it, records the wait)."""

from __future__ import annotations


class FakeTime:
    def __init__(self, now: float = 1_757_424_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def slept(self) -> float:
        return sum(self.sleeps)
