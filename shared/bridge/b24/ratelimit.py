"""Client-side copy of Bitrix24's leaky bucket, so we wait instead of collecting 503s.

Bitrix24 counts requests per portal (and calling IP): a bucket of `burst` requests draining at
`per_second` (standard plans 50 and 2/s). Every other client keeps that bucket in process memory,
which is wrong for Lambda: N concurrent invocations would each believe they own the whole budget.

`bridge.store.ratebucket.SharedBucket` keeps the one bucket in SyncTable for every invocation;
`LocalBucket` keeps it in this process. Both apply `BucketShape.admit`. The client takes either
as a `RateLimiter` (injected: this package never imports the store).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Requests kept free below the portal's bucket size. Our copy of the bucket and the portal's start
# at different moments and see each request at slightly different times; filled to exactly the
# burst, that jitter costs a 503 and its back-off now and then. A request reaches the portal after
# we count it, so the portal's level is never above ours; the margin only covers clock rounding
# and a bucket started a little late. A quarter slot is 0.125 s at 2 req/s (a whole slot, 0.5 s,
# was a tenth of the gap to the peer at 3,000 products: docs/performance.md, P1).
SAFETY_MARGIN = 0.25


class RateLimiter(Protocol):
    def acquire(self, cost: int = 1) -> None:
        """Block until `cost` requests fit into the bucket, then account for them."""


def drained_level(level: float, updated_at: float, now: float, per_second: float) -> float:
    return max(0.0, level - max(0.0, now - updated_at) * per_second)


def _capacity(burst: int, margin: float) -> float:
    if not 0.0 <= margin < burst:
        raise ValueError(f"margin must be between 0 and the burst size {burst}, got {margin}")
    return burst - margin


def check_cost(cost: int, burst: float) -> None:
    if cost < 1 or cost > burst:
        raise ValueError(f"cost must be between 1 and the burst size {burst}, got {cost}")


class BucketShape:
    """The bucket's size and drain rate, and the one rule both buckets apply: fit `cost` or wait."""

    def __init__(self, burst: int, per_second: float, margin: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self.capacity = _capacity(burst, margin)

    def admit(self, level: float, updated_at: float, now: float, cost: int) -> tuple[float, float]:
        """(level after taking `cost`, 0) when it fits now, else (drained level, seconds to wait)."""
        current = drained_level(level, updated_at, now, self.per_second)
        if current + cost <= self.capacity:
            return current + cost, 0.0
        return current, (current + cost - self.capacity) / self.per_second


class LocalBucket(BucketShape):
    """The bucket in this process only (tests, scripts, a single-worker local stack)."""

    def __init__(
        self,
        burst: int = 50,
        per_second: float = 2.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        margin: float = 0.0,
    ) -> None:
        super().__init__(burst, per_second, margin)
        self._clock = clock
        self._sleep = sleep
        self._level = 0.0
        self._updated_at = clock()
        self._lock = threading.Lock()

    def acquire(self, cost: int = 1) -> None:
        check_cost(cost, self.capacity)
        while True:
            with self._lock:
                now = self._clock()
                level, wait = self.admit(self._level, self._updated_at, now, cost)
                if not wait:
                    self._level, self._updated_at = level, now
                    return
            self._sleep(wait)
