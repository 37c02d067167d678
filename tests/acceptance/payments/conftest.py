"""One full local stack for the payment acceptance tests (§2.6.3–§2.6.6), reset between tests.

The real PaymentsPollFunction runs in it and is invoked as its schedule would invoke it; each test
starts from empty emulators and an empty SyncTable, then runs setup. The mapping is the packaged
default, as a customer gets it: the payment registry is the list «Реестр оплат» setup creates.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.settings import load_mapping
from sandbox.local.stack import LocalStack
from sandbox.world.payments import PaymentsWorld
from tests.harness.payments_stack import mapping_file, reset_world, start_stack


@pytest.fixture(scope="package")
def stack(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = start_stack(moto_endpoint, "payments-", tmp_path_factory.mktemp("payments"))
    yield running
    running.stop()


@pytest.fixture
def world(stack: LocalStack, tmp_path: Path) -> PaymentsWorld:
    world = PaymentsWorld.of_stack(stack, load_mapping(mapping_file(tmp_path)))
    reset_world(world)
    world.setup()
    return world
