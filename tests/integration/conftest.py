"""Integration fixtures shared by the deal-world modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.world.deals import World, world


@pytest.fixture(scope="module")
def running(moto_endpoint: str) -> Iterator[World]:
    """Both emulators and a SyncTable, started once per module (they are slow to start)."""
    with world(moto_endpoint) as started:
        yield started
