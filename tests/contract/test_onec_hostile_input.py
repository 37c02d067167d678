"""The 1C emulator's OData endpoints against hostile and malformed input (README §8): every answer
is one the platform gives, a 4xx with its `odata.error` body or one of its own documented 5xx
(malformed JSON, invalid comparison, code -1), never a crash of the emulator."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from sandbox.onec import create_app
from sandbox.onec.state import EmulatorState

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.contract

ROOT = "/unf/odata/standard.odata/"
AUTH = ("odata", "odata")


@pytest.fixture
def base() -> EmulatorState:
    state: EmulatorState = create_app().state.base
    return state


@pytest.fixture
def client(caplog: pytest.LogCaptureFixture, base: EmulatorState) -> Iterator[TestClient]:
    app = create_app()
    app.state.base = base
    with caplog.at_level(logging.ERROR, logger="sandbox.onec"), TestClient(app) as test_client:
        yield test_client
    crashes = [r.getMessage() for r in caplog.records if r.name.startswith("sandbox.onec")]
    assert not crashes, crashes


def url(path: str, **options: str) -> str:
    query = "&".join(f"{name}={quote(value, safe=chr(39) + '(),/:')}" for name, value in options.items())
    return ROOT + quote(path, safe="()',=/") + ("?" + query if query else "")


def odata_error(response: Any) -> tuple[int, str, str]:
    error = response.json()["odata.error"]
    assert error["message"]["lang"] == "ru"
    return response.status_code, error["code"], error["message"]["value"]


# -- the Authorization header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [b"Basic \xd0\xbe\xd0\xb4", b"Basic \x80", b"\xff\xfe", b"Basic b2RhdGE6b2RhdGE=\xa0"],
    ids=["cyrillic", "high byte", "no scheme", "trailing nbsp"],
)
def test_an_authorization_header_that_is_not_ascii_is_unauthorized(client: TestClient, header: bytes) -> None:
    response = client.get(url("Catalog_Валюты", **{"$format": "json"}), headers={"authorization": header})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="1C:Enterprise"'


# -- JSON bodies nested past the parser ------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
@pytest.mark.parametrize("body", ["[" * 100_000, '{"Description": ' * 100_000], ids=["arrays", "objects"])
def test_json_nested_past_the_parser_is_the_platforms_json_error(
    client: TestClient, base: EmulatorState, method: str, body: str
) -> None:
    ref = next(iter(base.store.table("Catalog_Валюты")))
    path = "Catalog_Валюты" if method == "POST" else f"Catalog_Валюты(guid'{ref}')"

    response = client.request(
        method,
        url(path, **{"$format": "json"}),
        content=body.encode(),
        auth=AUTH,
        headers={"content-type": "application/json"},
    )

    if method == "DELETE":  # a DELETE reads no body
        assert response.status_code == 204
    else:
        assert odata_error(response) == (500, "-1", "Непредвиденный символ при чтении JSON")
    assert base.journal[-1]["body"] == body
