"""The deal acceptance tests' local stack: one per module, reset by each test (`fresh`).

A module or package that needs another stack (the catalog's, the payments' package stack, a stack
per test) defines its own `stack` fixture, which replaces this one there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.local import LocalStack
from tests.harness.deal_stack import start_stack


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[LocalStack]:
    yield from start_stack(moto_endpoint)
