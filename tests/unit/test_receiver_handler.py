"""The deployed receiver handler with the named sample events from events/ (a fake queue, no sockets)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bridge.b24 import php_query
from bridge.deps import receiver_deps
from bridge.handlers import overridden
from bridge.pipeline.receiver import MAX_BODY_BYTES, ReceiverDeps
from sandbox.template import ROOT, load_function_handler
from tests.harness.lambda_edge import LambdaContext as FakeLambdaContext

EVENTS = ROOT / "events" / "b24_events_receiver"
B24_FIXTURES = Path(__file__).parent.parent / "fixtures" / "b24"
SANDBOX_TOKEN = "sandbox-application-token"

type Handler = Callable[..., dict[str, Any]]


@dataclass
class FakeQueue:
    sent: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        self.sent.append((json.loads(body), group_id))
        return "message-1"


CONTEXT = FakeLambdaContext("B24EventsReceiverFunction", remaining_ms=10_000)


@pytest.fixture(scope="module")
def handler() -> Handler:
    loaded: Handler = load_function_handler("B24EventsReceiverFunction")
    return loaded


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


def _invoke(handler: Handler, event: dict[str, Any], queue: FakeQueue) -> tuple[int, dict[str, Any]]:
    deps = ReceiverDeps(sender=queue, application_token=lambda: SANDBOX_TOKEN)
    with overridden({receiver_deps: deps}):
        response = handler(event, CONTEXT)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def _event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text("utf-8"))
    return data


def _body_text(event: dict[str, Any]) -> str:
    body = str(event["body"])
    return base64.b64decode(body).decode() if event["isBase64Encoded"] else body


@pytest.mark.parametrize(
    ("name", "group_id"),
    [("deal_add", "DEAL-7405"), ("deal_update", "DEAL-759"), ("company_add", "COMPANY-2917")],
)
def test_sample_events_are_queued(handler: Handler, queue: FakeQueue, name: str, group_id: str) -> None:
    status, body = _invoke(handler, _event(name), queue)
    assert (status, body["queued"]) == (200, True)
    assert [group for _, group in queue.sent] == [group_id]


def test_forged_token_sample_is_refused(handler: Handler, queue: FakeQueue) -> None:
    status, body = _invoke(handler, _event("forged_token"), queue)
    assert (status, body["queued"]) == (401, False)
    assert queue.sent == []


def test_malformed_sample_names_the_missing_field(handler: Handler, queue: FakeQueue) -> None:
    status, body = _invoke(handler, _event("malformed"), queue)
    assert (status, body["error"]) == (400, "missing field data")
    assert queue.sent == []


def test_oversized_body_is_413(handler: Handler, queue: FakeQueue) -> None:
    event = _event("deal_add")
    body = _body_text(event) + "&padding=" + "x" * MAX_BODY_BYTES
    event["body"] = base64.b64encode(body.encode()).decode()
    assert _invoke(handler, event, queue)[0] == 413
    assert queue.sent == []


# No metric is emitted for a route that does not exist; Powertools warns about the empty flush.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_other_routes_are_not_served(handler: Handler, queue: FakeQueue) -> None:
    event = _event("deal_add")
    event["routeKey"] = "GET /b24/events"
    event["rawPath"] = "/b24/other"
    event["requestContext"]["http"].update(method="GET", path="/b24/other")
    with overridden({receiver_deps: ReceiverDeps(sender=queue)}):
        response = handler(event, CONTEXT)
    assert response["statusCode"] == 404
    assert queue.sent == []


def test_deal_add_sample_is_the_reference_outgoing_webhook_with_the_sandbox_token() -> None:
    """events/ replays Bitrix24's documented delivery; only the secret differs."""
    reference = php_query.decode(
        (B24_FIXTURES / "event.ONCRMDEALADD.outgoing-webhook.form.txt").read_text("utf-8").strip()
    )
    reference["auth"]["application_token"] = SANDBOX_TOKEN
    event = _event("deal_add")
    assert php_query.decode(_body_text(event)) == reference
    assert event["routeKey"] == "POST /b24/events"
    assert event["headers"]["content-type"] == "application/x-www-form-urlencoded"
