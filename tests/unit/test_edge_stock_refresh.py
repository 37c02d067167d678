"""POST /stock/refresh under hostile input: a strict body or a 4xx with a reason and a log line;
never a 5xx, and nothing is refreshed without the token (handler in-process)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.deps import default_ports
from bridge.handlers import overridden
from tests.harness.lambda_edge import LambdaContext, generated, handler_module, http_event, spliced

TOKEN = "s3cret-refresh"


@dataclass
class Refreshes:
    """Stands in for the refresh run: records which products the route asked for."""

    asked: list[list[int] | None] = field(default_factory=list)

    def __call__(self, ids: list[int] | None, ports: object, **_: object) -> Report:
        self.asked.append(ids)
        return Report()


class Report:
    def as_dict(self) -> dict[str, object]:
        return {"flow": "stock refresh"}


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = handler_module("StockRefreshFunction")
    monkeypatch.setattr(module, "run_refresh", Refreshes())
    monkeypatch.setattr(module, "refresh_token", lambda: TOKEN)
    return module


def post(app: ModuleType, body: str | bytes, token: str | None = TOKEN) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["x-bridge-token"] = token
    with overridden({default_ports: object()}):
        response = app.handler(http_event("/stock/refresh", body, headers), LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def asked(app: ModuleType) -> list[list[int] | None]:
    recorder: Refreshes = app.run_refresh
    return recorder.asked


# --- strict bodies -------------------------------------------------------------------------------


def test_a_misspelt_field_is_400_not_a_full_refresh(
    app: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    status, answer = post(app, '{"produkt_ids": [1]}')

    assert (status, answer["reason"]) == (400, "produkt_ids: unknown field")
    assert asked(app) == []
    assert "stock refresh refused" in caplog.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"product_ids": [1], "all": true, "dry_run": true}', "dry_run: unknown field"),
        ('{"product_ids": [true]}', "product_ids.0"),
        ('{"product_ids": [0]}', "product_ids.0"),
        ('{"product_ids": ["０"]}', "product_ids.0"),
        ('{"product_ids": [' + "1" * 4301 + "]}", "body is not valid JSON"),
        ('{"all": "yes"}', "all: Input should be a valid boolean"),
        ('{"all": false}', "give product_ids or all: true"),
        ("[1, 2]", "JSON body must be an object"),
        ("not json", "body is not valid JSON"),
        ('{"product_ids": ' + "[" * 30_000 + "}", "JSON nested deeper than 32 levels"),
        ('{"product_ids": ["\\udfff"]}', "lone surrogate"),
    ],
)
def test_a_malformed_body_is_400_with_a_reason(app: ModuleType, body: str, reason: str) -> None:
    status, answer = post(app, body)

    assert status == 400
    assert reason in answer["reason"]
    assert asked(app) == []


@pytest.mark.parametrize(
    ("body", "ids"),
    [("", None), ("{}", None), ('{"all": true}', None), ('{"product_ids": [12, "15"]}', [12, 15])],
)
def test_the_documented_bodies_are_accepted(app: ModuleType, body: str, ids: list[int] | None) -> None:
    assert post(app, body)[0] == 200
    assert asked(app) == [ids]


@pytest.mark.parametrize("token", [TOKEN, None])
def test_a_body_over_64_kb_is_refused_before_any_work(app: ModuleType, token: str | None) -> None:
    status, _ = post(app, '{"product_ids": [' + ",".join(["1"] * 40_000) + "]}", token)

    assert status == (413 if token else 401)
    assert asked(app) == []


def test_bad_base64_is_400(app: ModuleType) -> None:
    event = http_event("/stock/refresh", "%%%", {"x-bridge-token": TOKEN})
    event["isBase64Encoded"] = True
    with overridden({default_ports: object()}):
        response = app.handler(event, LambdaContext())

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["reason"] == "body is not valid base64"


# --- generated bodies: 6,000 spliced JSON + 3,000 JSON documents + 1,000 raw = 10,000 -------------

PIECES = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"',
    '"product_ids"',
    '"produkt_ids"',
    '"all"',
    "true",
    "false",
    "null",
    "12",
    "-1",
    "0",
    '"15"',
    '"０"',
    "1" * 4301,
    '"\\ud800"',
    "[" * 2000,
    '{"product_ids": [1, 2]}',
    '{"all": true}',
    "{}",
]
TOKENS = [TOKEN, None, "", "forged", TOKEN + " ", TOKEN.upper()]


def _check(app: ModuleType, body: str | bytes, token: str | None) -> None:
    status, answer = post(app, body, token)
    assert 200 <= status < 500, (status, answer)
    if status >= 400:
        assert isinstance(answer["reason"], str)
        assert answer["reason"]
    if token != TOKEN:
        assert status == 401
        assert asked(app) == [], "refreshed without the token"
    assert len(asked(app)) == (1 if status == 200 else 0)
    asked(app).clear()


@generated(6000)
@given(spliced(PIECES, max_pieces=20), st.sampled_from(TOKENS))
def test_generated_json_text_gets_2xx_or_4xx_and_refreshes_only_with_the_token(
    app: ModuleType, text: str, token: str | None
) -> None:
    _check(app, text, token)


_ID = st.integers() | st.text(max_size=5) | st.booleans() | st.none() | st.floats(allow_nan=False)


@generated(3000)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "product_ids": st.lists(_ID, max_size=4) | _ID,
            "all": st.booleans() | st.none() | st.integers(0, 1),
            "produkt_ids": st.lists(st.integers(), max_size=2),
        },
    )
    | st.lists(st.integers(), max_size=3),
    st.sampled_from(TOKENS),
)
def test_generated_json_documents_get_2xx_or_4xx_and_refresh_only_with_the_token(
    app: ModuleType, document: Any, token: str | None
) -> None:
    _check(app, json.dumps(document), token)


@generated(1000)
@given(st.binary(max_size=200), st.sampled_from(TOKENS))
def test_generated_raw_bytes_get_2xx_or_4xx_and_refresh_only_with_the_token(
    app: ModuleType, raw: bytes, token: str | None
) -> None:
    _check(app, raw, token)
