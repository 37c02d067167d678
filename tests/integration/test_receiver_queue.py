"""The receiver handler, wired as in Lambda (settings from the environment), against moto's SQS over HTTP.

The FIFO queue and its DLQ are created from template.yaml's own definitions.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from bridge import deps, settings
from sandbox.template import ROOT, load_function_handler
from tests.harness.env import events_queues, local_env
from tests.harness.lambda_edge import LambdaContext as FakeLambdaContext

pytestmark = pytest.mark.integration

EVENTS = ROOT / "events" / "b24_events_receiver"
REGION = "eu-central-1"

type Handler = Callable[..., dict[str, Any]]


CONTEXT = FakeLambdaContext("B24EventsReceiverFunction", remaining_ms=10_000).typed()


@dataclass(frozen=True)
class Queues:
    sqs: Any
    url: str
    dlq_url: str

    def drain(self) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages


@pytest.fixture
def queues(moto_endpoint: str) -> Queues:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    url, dlq_url = events_queues(sqs)
    return Queues(sqs, url, dlq_url)


@pytest.fixture
def handler(queues: Queues, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Handler]:
    """The deployed handler with the local stack's environment (secrets from env, AWS = moto)."""
    local_env(monkeypatch, table="unused-by-the-receiver", queue_url=queues.url, aws_endpoint=moto_endpoint)
    settings.reset_caches()
    deps.reset()
    yield load_function_handler("B24EventsReceiverFunction")
    settings.reset_caches()
    deps.reset()


def _event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text("utf-8"))
    return data


def _call(handler: Handler, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = handler(event, CONTEXT)
    return response["statusCode"], json.loads(response["body"])


def test_valid_event_puts_exactly_one_message_in_its_entity_group(handler: Handler, queues: Queues) -> None:
    status, body = _call(handler, _event("deal_add"))

    assert status == 200
    assert body["queued"] is True
    [message] = queues.drain()
    assert message["Attributes"]["MessageGroupId"] == "DEAL-7405"
    assert message["MessageId"] == body["message_id"]
    queued = json.loads(message["Body"])
    assert {k: queued[k] for k in ("event", "entity", "id", "ts")} == {
        "event": "ONCRMDEALADD",
        "entity": "DEAL",
        "id": 7405,
        "ts": 1766047124,
    }


def test_two_posts_of_one_event_in_one_second_are_both_queued(handler: Handler, queues: Queues) -> None:
    # Bitrix24 never retries a delivery: the same event, id and ts posted twice are two changes.
    first = _call(handler, _event("deal_add"))
    again = _call(handler, _event("deal_add"))
    assert first[0] == again[0] == 200
    messages = queues.drain()
    assert len(messages) == 2
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"DEAL-7405"}


def test_events_of_different_entities_go_to_different_groups(handler: Handler, queues: Queues) -> None:
    for name in ("deal_add", "deal_update", "company_add"):
        assert _call(handler, _event(name))[0] == 200
    groups = sorted(m["Attributes"]["MessageGroupId"] for m in queues.drain())
    assert groups == ["COMPANY-2917", "DEAL-7405", "DEAL-759"]


def test_wrong_token_is_401_and_the_queue_stays_empty(handler: Handler, queues: Queues) -> None:
    status, body = _call(handler, _event("forged_token"))
    assert (status, body["queued"]) == (401, False)
    assert queues.drain() == []


def test_malformed_event_is_400_with_the_reason(handler: Handler, queues: Queues) -> None:
    status, body = _call(handler, _event("malformed"))
    assert (status, body["error"]) == (400, "missing field data")
    assert queues.drain() == []


def test_body_over_64_kib_is_413(handler: Handler, queues: Queues) -> None:
    event = _event("deal_add")
    padded = base64.b64decode(event["body"]) + b"&padding=" + b"x" * 65536
    event["body"] = base64.b64encode(padded).decode()
    assert _call(handler, event)[0] == 413
    assert queues.drain() == []


def test_queue_that_does_not_exist_is_503(
    handler: Handler, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_QUEUE_URL", queues.url.replace("Events-", "Missing-"))
    settings.reset_caches()
    deps.reset()
    status, body = _call(handler, _event("deal_add"))
    assert (status, body["queued"]) == (503, False)
