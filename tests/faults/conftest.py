"""One fault world per module (starting the emulators is the slow part); a fresh one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.faults import FaultWorld


@pytest.fixture(scope="module")
def running(moto_endpoint: str) -> Iterator[FaultWorld]:
    world = FaultWorld(moto_endpoint)
    yield world
    world.stop()


@pytest.fixture
def world(running: FaultWorld) -> FaultWorld:
    return running.fresh()
