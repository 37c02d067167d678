"""Integration fixtures shared by several modules: the deal world, the payments emulators, the
operator's CLI environment on a local stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge import deps
from sandbox.local import LocalStack
from sandbox.serve import RunningServer
from sandbox.world.deals import World, world
from tests.harness.emulators import running_emulators


@pytest.fixture(scope="module")
def running(moto_endpoint: str) -> Iterator[World]:
    """Both emulators and a SyncTable, started once per module (they are slow to start)."""
    with world(moto_endpoint) as started:
        yield started


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[RunningServer, RunningServer]]:
    """Both emulators (Bitrix24, 1C) in this process, once per module; no SyncTable (the payments
    modules take a fresh one per test)."""
    with running_emulators() as started:
        yield started


@pytest.fixture
def operator(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's environment as `.sandbox.env` gives it, for a module whose `stack` is a local
    stack."""
    for name, value in stack.cli_environment().items():
        monkeypatch.setenv(name, value)
    deps.reset()
    yield
    deps.reset()
