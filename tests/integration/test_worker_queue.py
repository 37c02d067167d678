"""The queue worker handler against moto over HTTP: idempotency records in a SyncTable built from
template.yaml, partial batch responses, and the receiver → queue → worker path end to end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge import pipeline, settings
from bridge.errors import PermanentError, TransientError
from bridge.pipeline.dispatch import Registry
from bridge.pipeline.idempotency import IDEMPOTENCY_PK
from bridge.pipeline.models import QueuedEvent
from bridge.pipeline.worker import WorkerDeps, default_worker_deps
from bridge.store import SyncStore
from sandbox.template import ROOT, create_queue_from_template, load_function_handler, queue_arn

pytestmark = pytest.mark.integration

REGION = "eu-central-1"
type Handler = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _context(function_name: str) -> LambdaContext:
    return cast(LambdaContext, FakeLambdaContext(function_name))


@dataclass
class Flows:
    """Test flows: deal 500 is "1C is down", deal 400 has bad data, the rest succeed; runs are counted."""

    calls: list[tuple[str, int]] = field(default_factory=list)

    def deal(self, queued: QueuedEvent) -> str:
        self.calls.append((queued.event, queued.id))
        if queued.id == 500:
            raise TransientError("1C answered 503")
        if queued.id == 400:
            raise PermanentError("deal 400 has no company and no contact")
        return f"deal {queued.id} synced"

    def registry(self) -> Registry:
        registry = Registry()
        registry.register(["ONCRMDEALADD", "ONCRMDEALUPDATE"], self.deal)
        return registry


@dataclass(frozen=True)
class Stack:
    sqs: Any
    dynamodb: Any
    table: str
    queue_url: str
    worker: Handler
    receiver: Handler
    flows: Flows
    deps: WorkerDeps

    def run_worker(self, records: list[dict[str, Any]]) -> list[str]:
        response = self.worker({"Records": records}, _context("QueueWorkerFunction"), deps=self.deps)
        return [item["itemIdentifier"] for item in response["batchItemFailures"]]

    def idempotency_items(self) -> list[dict[str, Any]]:
        answer = self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": IDEMPOTENCY_PK}},
        )
        items: list[dict[str, Any]] = answer["Items"]
        return items

    def receive_as_lambda_records(self) -> list[dict[str, Any]]:
        """What Lambda's SQS event source hands the worker for the messages now in the queue."""
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        )
        arn = queue_arn(self.sqs, self.queue_url)
        return [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in answer.get("Messages", [])
        ]


@pytest.fixture
def stack(moto_endpoint: str, sync_table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    suffix = uuid.uuid4().hex[:8]
    dlq_url = create_queue_from_template(sqs, "EventsDeadLetterQueue", f"EventsDlq-{suffix}")
    queue_url = create_queue_from_template(
        sqs, "EventsQueue", f"Events-{suffix}", arns={"EventsDeadLetterQueue": queue_arn(sqs, dlq_url)}
    )
    for name, value in {
        "BRIDGE_TABLE_NAME": sync_table,
        "BRIDGE_QUEUE_URL": queue_url,
        "BRIDGE_AWS_ENDPOINT_URL": moto_endpoint,
        "BRIDGE_B24_WEBHOOK_URL": "http://127.0.0.1:8024/rest/1/sandbox/",
        "BRIDGE_B24_APPLICATION_TOKEN": "sandbox-application-token",
        "BRIDGE_ONEC_BASE_URL": "http://127.0.0.1:8081/unf/odata/standard.odata/",
        "BRIDGE_ONEC_USER": "odata",
        "BRIDGE_ONEC_PASSWORD": "odata",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRIDGE_SECRET_ID", raising=False)
    settings.reset_caches()
    pipeline.reset_caches()
    flows = Flows()
    # Everything but the flows is what Lambda builds from the environment (SyncTable on moto).
    deps = replace(default_worker_deps(), registry=flows.registry())
    yield Stack(
        sqs=sqs,
        dynamodb=boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION),
        table=sync_table,
        queue_url=queue_url,
        worker=load_function_handler("QueueWorkerFunction"),
        receiver=load_function_handler("B24EventsReceiverFunction"),
        flows=flows,
        deps=deps,
    )
    settings.reset_caches()
    pipeline.reset_caches()


def _sample_record() -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "queue_worker" / "deal_add.json").read_text("utf-8"))
    record: dict[str, Any] = event["Records"][0]
    return record


def _record_for(message_id: str, **changes: Any) -> dict[str, Any]:
    record = _sample_record()
    body = {**json.loads(record["body"]), **changes}
    record.update(messageId=message_id, body=json.dumps(body))
    record["attributes"] = {**record["attributes"], "MessageGroupId": f"{body['entity']}-{body['id']}"}
    return record


def test_partial_batch_response_names_only_the_failing_record(stack: Stack) -> None:
    failed = stack.run_worker([_record_for("good"), _record_for("down", id=500)])
    assert failed == ["down"]
    assert sorted(stack.flows.calls) == [("ONCRMDEALADD", 500), ("ONCRMDEALADD", 7405)]


def test_the_same_message_twice_runs_the_flow_once(stack: Stack) -> None:
    record = _sample_record()
    assert stack.run_worker([record]) == []
    assert stack.run_worker([record]) == []  # SQS at-least-once delivery: a second receipt

    assert stack.flows.calls == [("ONCRMDEALADD", 7405)]
    [item] = stack.idempotency_items()
    assert item["status"]["S"] == "COMPLETED"
    assert json.loads(item["data"]["S"])["status"] == "done"
    assert int(item["expires_at"]["N"]) > 0  # SyncTable's TTL attribute, so DynamoDB cleans up


def test_a_failed_flow_leaves_no_record_so_the_retry_runs_it(stack: Stack) -> None:
    record = _record_for("down", id=500)
    assert stack.run_worker([record]) == ["down"]
    assert stack.idempotency_items() == []
    assert stack.run_worker([record]) == ["down"]
    assert stack.flows.calls == [("ONCRMDEALADD", 500), ("ONCRMDEALADD", 500)]


def test_permanent_failure_is_audited_in_sync_table_and_not_retried(stack: Stack) -> None:
    assert stack.run_worker([_record_for("bad-data", id=400)]) == []
    store = SyncStore(stack.table, stack.dynamodb)
    [entry] = store.audit.list(datetime.now(UTC).date())
    assert (entry.flow, entry.subject, entry.outcome) == ("b24-events", "DEAL-400", "failed")
    assert entry.detail["reason"] == "deal 400 has no company and no contact"


def test_unknown_event_is_an_ignored_outcome(stack: Stack) -> None:
    assert stack.run_worker([_record_for("delete", event="ONCRMDEALDELETE")]) == []
    assert stack.flows.calls == []
    [item] = stack.idempotency_items()
    assert json.loads(item["data"]["S"])["status"] == "ignored"


def test_receiver_to_queue_to_worker(stack: Stack) -> None:
    """The message the receiver writes is the message the worker reads."""
    api_event = json.loads((ROOT / "events" / "b24_events_receiver" / "deal_update.json").read_text("utf-8"))
    response = stack.receiver(api_event, _context("B24EventsReceiverFunction"))
    assert response["statusCode"] == 200

    records = stack.receive_as_lambda_records()
    assert [r["attributes"]["MessageGroupId"] for r in records] == ["DEAL-759"]
    assert stack.run_worker(records) == []
    assert stack.flows.calls == [("ONCRMDEALUPDATE", 759)]
