"""POST /stock/refresh refuses without the shared secret and explains malformed bodies."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from bridge.deps import default_ports
from bridge.handlers import overridden
from bridge.routes import stock_refresh as auth

APP = Path(__file__).parents[2] / "functions" / "stock_refresh" / "app.py"


def load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stock_refresh_app", APP)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(body: str, token: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["x-bridge-token"] = token
    return {
        "version": "2.0",
        "routeKey": "POST /stock/refresh",
        "rawPath": "/stock/refresh",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/stock/refresh",
                "protocol": "HTTP/1.1",
                "sourceIp": "1.2.3.4",
            },
            "requestId": "r",
            "routeKey": "POST /stock/refresh",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


class Context(SimpleNamespace):
    def get_remaining_time_in_millis(self) -> int:
        return 29_000


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "unused")
    for name, value in {
        "BRIDGE_B24_WEBHOOK_URL": "http://127.0.0.1:8024/rest/1/sandbox/",
        "BRIDGE_B24_APPLICATION_TOKEN": "t",
        "BRIDGE_ONEC_BASE_URL": "http://127.0.0.1:8081/unf/odata/standard.odata/",
        "BRIDGE_ONEC_USER": "odata",
        "BRIDGE_ONEC_PASSWORD": "odata",
        "BRIDGE_STOCK_REFRESH_TOKEN": "s3cret",
    }.items():
        monkeypatch.setenv(name, value)
    from bridge.settings import reset_caches

    reset_caches()
    module = load_app()
    calls: list[Any] = []

    def run_refresh(ids: Any, ports: Any, **kw: Any) -> _Report:
        calls.append(ids)
        return _Report()

    monkeypatch.setattr(module, "run_refresh", run_refresh)
    module.calls = calls  # type: ignore[attr-defined]
    return module


class _Report:
    def as_dict(self) -> dict[str, object]:
        return {"flow": "stock refresh"}


def invoke(app: ModuleType, body: str, token: str | None) -> dict[str, Any]:
    context = Context(
        function_name="f", memory_limit_in_mb=512, invoked_function_arn="arn", aws_request_id="r"
    )
    with overridden({default_ports: object()}):
        return app.handler(event(body, token), context)  # type: ignore[no-any-return]


@pytest.mark.parametrize("token", [None, "", "wrong", "s3cret "])
def test_a_missing_or_wrong_token_is_401_and_runs_nothing(app: ModuleType, token: str | None) -> None:
    answer = invoke(app, json.dumps({"product_ids": [1]}), token)

    assert answer["statusCode"] == 401
    assert app.calls == []


def test_the_right_token_refreshes_the_given_products(app: ModuleType) -> None:
    answer = invoke(app, json.dumps({"product_ids": [12, "15"]}), "s3cret")

    assert answer["statusCode"] == 200
    assert app.calls == [[12, 15]]


def test_an_empty_body_means_every_product(app: ModuleType) -> None:
    assert invoke(app, "", "s3cret")["statusCode"] == 200
    assert app.calls == [None]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"product_ids": "12"}', '{"all": false}'])
def test_a_malformed_body_is_400_with_a_reason(app: ModuleType, body: str) -> None:
    answer = invoke(app, body, "s3cret")

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["reason"]


def test_no_configured_token_refuses_everything() -> None:
    assert not auth.token_matches("x", None)
    assert not auth.token_matches(None, "x")
    assert auth.token_matches("x", "x")


def test_the_sample_event_is_accepted_with_the_sandbox_token(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.settings import reset_caches

    monkeypatch.setenv("BRIDGE_STOCK_REFRESH_TOKEN", "sandbox-refresh-token")
    reset_caches()
    sample = json.loads(
        (APP.parents[2] / "events" / "stock_refresh" / "some_products.json").read_text("utf-8")
    )
    context = Context(
        function_name="f", memory_limit_in_mb=512, invoked_function_arn="arn", aws_request_id="r"
    )
    with overridden({default_ports: object()}):
        answer = app.handler(sample, context)

    assert answer["statusCode"] == 200
    assert app.calls == [[1, 2]]
