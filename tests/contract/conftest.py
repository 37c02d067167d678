"""The contract fixtures: the Bitrix24 emulator in-process (`rest`, fresh per test) and the 1C
emulator over real HTTP (`onec`: one server per module, the seed restored before each test)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.onec import create_app
from sandbox.serve import serve_in_thread
from sandbox.world.rest import B24Rest
from tests.harness.onec import BASE


@pytest.fixture(scope="module")
def onec_http() -> Iterator[httpx.Client]:
    server = serve_in_thread(create_app())
    try:
        with httpx.Client(base_url=server.url + BASE, auth=("odata", "odata"), timeout=10) as http:
            yield http
    finally:
        server.stop()


@pytest.fixture
def onec(onec_http: httpx.Client) -> httpx.Client:
    onec_http.post(onec_http.base_url.copy_with(path="/_sandbox/reset")).raise_for_status()
    return onec_http


@pytest.fixture
def rest() -> Iterator[B24Rest]:
    """The Bitrix24 emulator in-process, fresh per test."""
    client = B24Rest.in_process()
    yield client
    client.close()
