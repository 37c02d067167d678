"""A time budget for the work in hand, so a hung call never outlives the Lambda invocation.

The queue worker gives each record a budget cut from the invocation's remaining time. The HTTP
clients read it: no request waits longer than what is left, and no retry starts that could not
finish. When the budget is spent the call fails with `OutOfTime`, a transient error, so the record
is reported failed and retried later while the rest of the batch goes on. Without this, one hung
1C call (20 s × 4 attempts) outlives a 60 s worker: Lambda kills the invocation, the partial batch
answer is never sent, and every record of the batch (done or not) is received again.

Outside a budget (setup, the CLI, tests of the clients) nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from bridge.errors import TransientError

# The shortest time worth starting a request in: below this an attempt cannot get an answer.
MIN_ATTEMPT_S = 0.5

_deadline: ContextVar[float | None] = ContextVar("bridge_deadline", default=None)
_clock: list[Callable[[], float]] = [time.monotonic]


class OutOfTime(TransientError):
    """The budget of the record in hand ran out; the queue retries it later."""


def now() -> float:
    return _clock[0]()


def use_clock(clock: Callable[[], float]) -> None:
    """Tests: an injected clock (the budget and the clock must agree)."""
    _clock[0] = clock


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Run the block with at most `seconds` (never extends an outer budget)."""
    outer = _deadline.get()
    mine = now() + max(seconds, 0.0)
    token = _deadline.set(mine if outer is None else min(outer, mine))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left, or None outside any budget."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - now()


def request_timeout(configured: float, what: str) -> float:
    """The timeout for the next request: the configured one, cut to what is left."""
    left = remaining()
    if left is None:
        return configured
    if left < MIN_ATTEMPT_S:
        raise OutOfTime(f"{what}: not started, the time budget of this record is spent")
    return min(configured, left)


def may_wait(delay: float) -> bool:
    """Whether sleeping `delay` still leaves time for one more attempt."""
    left = remaining()
    return left is None or left - delay >= MIN_ATTEMPT_S
