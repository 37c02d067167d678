"""Waiting for an asynchronous outcome without asserting on time (one loop: sandbox.world.waiting)."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.world import waiting


def eventually[T](probe: Callable[[], T | None], timeout: float = 90.0, what: str = "the condition") -> T:
    """Poll until `probe` returns something truthy (the pipeline is asynchronous); a test that never
    gets there fails with what it waited for."""
    return waiting.eventually(probe, what=what, timeout=timeout, error=AssertionError)
