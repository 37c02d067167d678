"""The local stack plays API Gateway, SQS and EventBridge for handlers declared in a SAM template
(a small fixture template here; test_local_stack_template.py runs the project's own)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.local import Invocation, LocalStack, LocalStackConfig

pytestmark = pytest.mark.integration

FIXTURE_TEMPLATE = Path(__file__).parents[1] / "fixtures" / "local" / "template.yaml"
TOKEN = "sandbox-application-token"


def _config(moto_endpoint: str, **overrides: object) -> LocalStackConfig:
    return LocalStackConfig.ephemeral(
        template_path=FIXTURE_TEMPLATE,
        moto_url=moto_endpoint,
        emulators=False,
        prefix=f"t{uuid.uuid4().hex[:8]}-",
        # The fixture's functions declare no policies (in AWS they could not touch the table);
        # this file is about routes, queues and schedules, the project's template about IAM.
        enforce_iam=False,
        **overrides,
    )


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[LocalStack]:
    with LocalStack(_config(moto_endpoint, schedules=False)) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


def _records(invocation: Invocation) -> list[dict[str, Any]]:
    return list(invocation.event["Records"])


def test_route_call_reaches_the_worker_through_the_queue(stack: LocalStack, api: httpx.Client) -> None:
    entity = str(uuid.uuid4().int % 10**6)
    answer = api.post(
        "/hooks/b24",
        data={"event": "ONCRMDEALADD", "data[FIELDS][ID]": entity, "auth[application_token]": TOKEN},
    )

    assert answer.status_code == 200
    assert answer.json() == {"queued": entity}
    run = stack.journal.wait_for(
        lambda i: (
            i.trigger == "sqs"
            and any(f"E-{entity}" == r["attributes"]["MessageGroupId"] for r in _records(i))
        )
    )
    assert run.function == "WorkerFunction"
    assert run.outcome == "ok"
    record = _records(run)[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == stack.model.queues["EventsQueue"].arn
    assert record["messageAttributes"] == {
        "source": {"stringValue": "b24", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert {"ApproximateReceiveCount", "SentTimestamp", "SequenceNumber", "MessageDeduplicationId"} <= set(
        record["attributes"]
    )
    assert run.notes["deleted"] == [record["messageId"]]
    assert any('"message": "dispatched"' in line for line in run.logs)
    item = stack.client("dynamodb").get_item(
        TableName=stack.model.tables["SyncTable"].name,
        Key={"pk": {"S": f"MSG#{record['messageId']}"}, "sk": {"S": "SEEN"}},
    )
    assert "Item" in item


def test_forged_token_is_refused_with_the_handlers_401(stack: LocalStack, api: httpx.Client) -> None:
    answer = api.post("/hooks/b24", data={"event": "ONCRMDEALADD", "auth[application_token]": "forged"})

    assert answer.status_code == 401
    assert answer.json() == {"error": "bad token"}
    assert answer.headers["content-type"] == "application/json"


def test_http_api_event_has_the_payload_2_0_shape(api: httpx.Client) -> None:
    answer = api.get(
        "/echo/a/b",
        params=[("x", "1"), ("x", "2"), ("y", "")],
        headers={"Cookie": "a=1; b=2", "X-Custom": "v"},
    )

    assert answer.status_code == 200
    event = answer.json()["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /echo/{proxy+}"
    assert event["rawPath"] == "/echo/a/b"
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-custom"] == "v"
    assert "cookie" not in event["headers"]
    assert all(name == name.lower() for name in event["headers"])
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/echo/a/b"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["stage"] == "$default"
    assert context["routeKey"] == "ANY /echo/{proxy+}"
    assert isinstance(context["timeEpoch"], int)
    assert event["isBase64Encoded"] is False
    assert "body" not in event


def test_form_bodies_arrive_base64_encoded_and_json_bodies_as_text(api: httpx.Client) -> None:
    form = api.post("/echo/form", data={"a[b]": "1"}).json()["event"]
    as_json = api.post("/echo/json", json={"a": 1}).json()["event"]

    assert form["isBase64Encoded"] is True
    assert base64.b64decode(form["body"]) == b"a%5Bb%5D=1"
    assert as_json["isBase64Encoded"] is False
    assert json.loads(as_json["body"]) == {"a": 1}


def test_function_sees_its_resolved_environment_and_context(stack: LocalStack, api: httpx.Client) -> None:
    answer = api.put("/echo/env").json()

    env = answer["env"]
    assert env["GREETING"] == "hello from eu-central-1"
    assert env["BRIDGE_TABLE_NAME"] == stack.model.tables["SyncTable"].name
    assert env["BRIDGE_QUEUE_URL"] == stack.queue_urls["EventsQueue"]
    assert env["QUEUE_ARN"] == stack.model.queues["EventsQueue"].arn
    assert env["BRIDGE_AWS_ENDPOINT_URL"] == stack.moto_url
    assert env["BRIDGE_B24_WEBHOOK_URL"].endswith("/rest/1/sandbox/")
    assert env["BRIDGE_B24_APPLICATION_TOKEN"] == TOKEN
    assert env["BRIDGE_ONEC_USER"] == "odata"
    assert "BRIDGE_SECRET_ID" not in env
    assert answer["function_name"] == stack.model.functions["ReceiverFunction"].name
    assert 0 < answer["remaining_ms"] <= 10_000


def test_unknown_route_answers_like_api_gateway(api: httpx.Client) -> None:
    answer = api.post("/nowhere")

    assert answer.status_code == 404
    assert answer.json() == {"message": "Not Found"}


def test_local_invoke_runs_a_function_now(api: httpx.Client) -> None:
    explicit = api.post("/_local/invoke/TickFunction", json={"flow": "manual"})
    default = api.post("/_local/invoke/TickFunction")
    missing = api.post("/_local/invoke/NoSuchFunction")

    results = [explicit, default]
    assert all(r.status_code == 200 for r in results)
    # The first call in a fresh container fails on purpose (see the fixture): Invoke reports it.
    failed = [r for r in results if r.headers.get("x-amz-function-error") == "Unhandled"]
    succeeded = [r.json() for r in results if "x-amz-function-error" not in r.headers]
    assert all(r.json()["errorType"] == "RuntimeError" for r in failed)
    assert {"flow": "tick"} in [s["event"] for s in succeeded] or {"flow": "manual"} in [
        s["event"] for s in succeeded
    ]
    assert missing.status_code == 404


def test_handler_crash_deletes_nothing(stack: LocalStack) -> None:
    marker = f"please-crash-{uuid.uuid4().hex}"
    stack.client("sqs").send_message(
        QueueUrl=stack.queue_urls["EventsQueue"], MessageBody=marker, MessageGroupId=marker
    )

    run = stack.journal.wait_for(
        lambda i: i.trigger == "sqs" and any(r["body"] == marker for r in _records(i))
    )

    assert run.outcome == "error"
    assert run.error is not None
    assert run.error["errorType"] == "RuntimeError"
    assert run.notes["deleted"] == []
    assert marker in [r["body"] for r in _records(run) if r["messageId"] in run.notes["kept"]]


def test_partial_batch_failure_keeps_only_the_failed_message_for_redelivery(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    failing, passing = f"please-fail-{uuid.uuid4().hex}", f"ok-{uuid.uuid4().hex}"
    for body in (failing, passing):
        sqs.send_message(QueueUrl=stack.queue_urls["EventsQueue"], MessageBody=body, MessageGroupId=body)

    def carries(body: str, receive: str) -> Callable[[Invocation], bool]:
        return lambda i: (
            i.trigger == "sqs"
            and any(
                r["body"] == body and r["attributes"]["ApproximateReceiveCount"] == receive
                for r in _records(i)
            )
        )

    first = stack.journal.wait_for(carries(failing, "1"))
    failed_id = next(r["messageId"] for r in _records(first) if r["body"] == failing)
    assert failed_id in first.notes["kept"]
    assert first.result == {"batchItemFailures": [{"itemIdentifier": failed_id}]}
    # The failed message comes back after the visibility timeout, as itself.
    second = stack.journal.wait_for(carries(failing, "2"), timeout=15)
    assert failed_id in [r["messageId"] for r in _records(second)]
    # The passing one was deleted: handled once, never redelivered, in the table.
    passed = [
        i
        for i in stack.journal.entries()
        if i.trigger == "sqs" and any(r["body"] == passing for r in _records(i))
    ]
    assert len(passed) == 1 or all(
        r["attributes"]["ApproximateReceiveCount"] == "1"
        for i in passed
        for r in _records(i)
        if r["body"] == passing
    )
    # maxReceiveCount 2: the next receive moves it to the dead-letter queue (moto implements redrive).
    dead = sqs.receive_message(
        QueueUrl=stack.queue_urls["EventsDeadLetterQueue"], MaxNumberOfMessages=10, WaitTimeSeconds=10
    )
    assert failing in [m["Body"] for m in dead.get("Messages", [])]


def test_status_lists_what_the_template_declares(stack: LocalStack, api: httpx.Client) -> None:
    status = api.get("/_local/status").json()

    assert set(status["functions"]) == {"ReceiverFunction", "WorkerFunction", "TickFunction"}
    assert {r["route_key"] for r in status["routes"]} == {"POST /hooks/{source}", "ANY /echo/{proxy+}"}
    assert set(status["queues"]) == {"EventsQueue", "EventsDeadLetterQueue"}
    assert status["queues"]["EventsQueue"]["url"] == stack.queue_urls["EventsQueue"]
    assert {s["name"] for s in status["schedules"]} == {"TickFunctionEveryMinute", "TickFunctionNightly"}
    assert isinstance(status["last_runs"], list)


def test_schedule_fires_with_its_input_and_retries_a_failure(moto_endpoint: str) -> None:
    # rate(1 minute) at ×120 fires every half second; the first call in the container fails on
    # purpose, and RetryPolicy.MaximumRetryAttempts: 1 retries it.
    with LocalStack(_config(moto_endpoint, pollers=False, schedule_speed=120)) as running:
        failed = running.journal.wait_for(
            lambda i: i.trigger == "schedule" and i.outcome == "error", timeout=20
        )
        retried = running.journal.wait_for(
            lambda i: i.trigger == "schedule" and i.outcome == "ok" and i.seq > failed.seq, timeout=20
        )
        status = {s["name"]: s for s in running.status()["schedules"]}

    assert failed.source == retried.source == "TickFunctionEveryMinute"
    assert failed.notes["attempt"] == 0
    assert retried.notes["attempt"] == 1
    assert retried.event == {"flow": "tick"}
    assert status["TickFunctionEveryMinute"]["fired"] >= 1
    assert status["TickFunctionNightly"]["enabled"] is False
    assert not [i for i in running.journal.entries() if i.source == "TickFunctionNightly"]
