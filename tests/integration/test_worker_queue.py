"""The queue worker handler against moto over HTTP: idempotency records in a SyncTable built from
template.yaml, partial batch responses, and the receiver → queue → worker path end to end."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge import settings
from bridge.deps import reset, worker_deps
from bridge.domain.events import QueuedEvent
from bridge.errors import PermanentError, TransientError
from bridge.handlers import overridden
from bridge.pipeline.dispatch import Registry
from bridge.pipeline.idempotency import IDEMPOTENCY_PK
from bridge.pipeline.worker import WorkerDeps
from bridge.store import SyncStore
from sandbox.template import ROOT, load_function_handler, queue_arn
from tests.harness.env import events_queues, local_env
from tests.harness.lambda_edge import LambdaContext as FakeLambdaContext

pytestmark = pytest.mark.integration

REGION = "eu-central-1"
type Handler = Callable[..., dict[str, Any]]


def _context(function_name: str) -> LambdaContext:
    return FakeLambdaContext(function_name, remaining_ms=60_000, memory_limit_in_mb=512).typed()


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
        with overridden({worker_deps: self.deps}):
            response = self.worker({"Records": records}, _context("QueueWorkerFunction"))
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
    queue_url, _dead_letters = events_queues(sqs)
    local_env(monkeypatch, table=sync_table, queue_url=queue_url, aws_endpoint=moto_endpoint)
    settings.reset_caches()
    reset()
    flows = Flows()
    # Everything but the flows is what Lambda builds from the environment (SyncTable on moto).
    deps = replace(worker_deps(), registry=flows.registry())
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
    reset()


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
