"""Waiting for an asynchronous outcome without asserting on time."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually[T](probe: Callable[[], T | None], timeout: float = 90.0, what: str = "the condition") -> T:
    """Poll until `probe` returns something truthy (the pipeline is asynchronous); the timeout
    only bounds a broken run, it is never the thing tested."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in time: {what}")
        time.sleep(0.3)
