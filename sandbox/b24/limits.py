"""Leaky-bucket request limit and per-method operating-time budget (README §1.5)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable


class LeakyBucket:
    """Each request adds 1; the level drains by `rate` per second; above `size` requests get 503."""

    def __init__(self, size: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.rate = rate
        self._clock = clock
        self._level = 0.0
        self._last = clock()
        self._lock = threading.Lock()

    def reconfigure(self, size: int, rate: float) -> None:
        with self._lock:
            self.size, self.rate = size, rate

    def reset(self) -> None:
        with self._lock:
            self._level, self._last = 0.0, self._clock()

    def admit(self) -> bool:
        with self._lock:
            now = self._clock()
            self._level = max(0.0, self._level - (now - self._last) * self.rate)
            self._last = now
            if self._level + 1 > self.size:
                return False
            self._level += 1
            return True


class OperatingLedger:
    """Execution time per method in one-minute buckets that live `window` seconds from their start."""

    def __init__(self, window: float = 600.0, clock: Callable[[], float] = time.time) -> None:
        self.window = window
        self.clock = clock  # public: benches swap in a scaled clock, tests a fake one
        self._buckets: dict[str, list[list[float]]] = defaultdict(list)  # [bucket_start, seconds]
        self._lock = threading.Lock()

    def _live(self, method: str, now: float) -> list[list[float]]:
        buckets = [b for b in self._buckets[method] if b[0] + self.window > now]
        self._buckets[method] = buckets
        return buckets

    def used(self, method: str) -> tuple[float, int]:
        """(seconds used in the window, unix time when the oldest bucket expires)."""
        with self._lock:
            now = self.clock()
            buckets = self._live(method, now)
            reset_at = int(buckets[0][0] + self.window) if buckets else int(now + self.window)
            return sum(b[1] for b in buckets), reset_at

    def bill(self, method: str, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            now = self.clock()
            buckets = self._live(method, now)
            if buckets and now - buckets[-1][0] < 60:
                buckets[-1][1] += seconds
            else:
                buckets.append([now, seconds])

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
