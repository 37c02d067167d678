"""The 1C emulator over real HTTP, shared by the 1C contract modules: one server per module, the
seed restored before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.onec import create_app
from sandbox.onec.testing import BASE
from sandbox.serve import serve_in_thread


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
