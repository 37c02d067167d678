"""Waiting for an asynchronous outcome of the local stack (queues, Lambdas, emulators) without
asserting on time: the timeout only bounds a broken run, it is never what is measured."""

from __future__ import annotations

import time
from collections.abc import Callable


class Unready(RuntimeError):
    """What a scene waited for did not happen; the message says what."""


def eventually[T](
    probe: Callable[[], T | None],
    *,
    what: str = "the condition",
    timeout: float = 90.0,
    error: type[Exception] = Unready,
) -> T:
    """Poll `probe` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise error(f"not reached in {timeout:.0f} s: {what}")
        time.sleep(0.3)
