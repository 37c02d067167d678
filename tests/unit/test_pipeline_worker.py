"""Worker decisions per record: retry, give up, ignore, run once. In-memory idempotency store, no sockets."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from bridge.b24.errors import AuthError as B24AuthError
from bridge.domain.events import QueuedEvent
from bridge.errors import PermanentError, TransientError
from bridge.observability import logger
from bridge.onec.errors import AccessDenied as OneCAccessDenied
from bridge.pipeline.dispatch import Registry
from bridge.pipeline.worker import Worker, WorkerDeps
from sandbox.template import ROOT
from tests.harness.lambda_edge import LambdaContext as FakeLambdaContext


class InMemoryIdempotencyStore(BasePersistenceLayer):
    """Powertools' persistence interface over a dict, with DynamoDB's conditional-put semantics."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        if idempotency_key not in self.records:
            raise IdempotencyItemNotFoundError
        return self.records[idempotency_key]

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        if existing is not None and not existing.is_expired:
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


@dataclass
class FakeAudit:
    failures: list[tuple[str, str]] = field(default_factory=list)

    def record_failure(self, queued: QueuedEvent, reason: str) -> None:
        self.failures.append((queued.group_id, reason))


CONTEXT = FakeLambdaContext("QueueWorkerFunction", remaining_ms=60_000, memory_limit_in_mb=512).typed()


def _record(message_id: str, body: dict[str, Any] | str) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    group = f"{body['entity']}-{body['id']}" if isinstance(body, dict) else "DEAL-1"
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "MessageGroupId": group,
            "SentTimestamp": "1766047124530",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:EventsQueue.fifo",
        "awsRegion": "eu-central-1",
    }


def _queued(event: str = "ONCRMDEALADD", entity_id: int = 7405, ts: int = 1766047124) -> dict[str, Any]:
    received = datetime.now(UTC).isoformat()
    return {"event": event, "entity": "DEAL", "id": entity_id, "ts": ts, "received_at": received}


def _failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


type Flow = Callable[[QueuedEvent], str | None]


@dataclass
class Harness:
    registry: Registry
    store: InMemoryIdempotencyStore
    audit: FakeAudit
    calls: list[tuple[str, int]]

    def worker(self) -> Worker:
        return Worker(WorkerDeps(registry=self.registry, persistence=self.store, audit=self.audit))

    def run(self, *records: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = dict(self.worker().process_batch({"Records": list(records)}, CONTEXT))
        return response


@pytest.fixture
def harness() -> Harness:
    registry = Registry()
    calls: list[tuple[str, int]] = []

    def deal_flow(queued: QueuedEvent) -> str:
        calls.append((queued.event, queued.id))
        if queued.id == 500:
            raise TransientError("1C answered 503")
        if queued.id == 400:
            raise PermanentError("deal 400 has no company and no contact")
        return "order synced"

    registry.register(["ONCRMDEALADD", "ONCRMDEALUPDATE"], deal_flow)
    return Harness(registry, InMemoryIdempotencyStore(), FakeAudit(), calls)


def test_successful_batch_reports_no_failures(harness: Harness) -> None:
    response = harness.run(_record("m1", _queued()), _record("m2", _queued(entity_id=7406)))
    assert _failed_ids(response) == []
    assert harness.calls == [("ONCRMDEALADD", 7405), ("ONCRMDEALADD", 7406)]


def test_transient_failure_reports_only_that_record(harness: Harness) -> None:
    response = harness.run(_record("good", _queued()), _record("flaky", _queued(entity_id=500)))
    assert _failed_ids(response) == ["flaky"]


def test_a_failed_entity_keeps_its_later_events_for_the_retry(harness: Harness) -> None:
    """FIFO order per entity: an UPDATE must not overtake the ADD that is going to be retried."""
    response = harness.run(
        _record("add", _queued(entity_id=500)),
        _record("other-deal", _queued(entity_id=7405)),
        _record("update", _queued("ONCRMDEALUPDATE", entity_id=500, ts=1766047200)),
    )
    assert _failed_ids(response) == ["add", "update"]
    assert ("ONCRMDEALUPDATE", 500) not in harness.calls
    assert ("ONCRMDEALADD", 7405) in harness.calls


def test_retry_after_a_transient_failure_runs_the_flow_again(harness: Harness) -> None:
    record = _record("flaky", _queued(entity_id=500))
    harness.run(record)
    harness.run(record)
    assert harness.calls == [("ONCRMDEALADD", 500), ("ONCRMDEALADD", 500)]


def test_permanent_failure_is_audited_and_not_retried(harness: Harness) -> None:
    response = harness.run(_record("bad-data", _queued(entity_id=400)))
    assert _failed_ids(response) == []
    assert harness.audit.failures == [("DEAL-400", "deal 400 has no company and no contact")]


def test_audit_outage_does_not_turn_a_permanent_failure_into_retries(harness: Harness) -> None:
    class BrokenAudit(FakeAudit):
        def record_failure(self, queued: QueuedEvent, reason: str) -> None:
            raise RuntimeError("DynamoDB unavailable")

    harness.audit = BrokenAudit()
    assert _failed_ids(harness.run(_record("bad-data", _queued(entity_id=400)))) == []


def test_a_redelivered_message_runs_the_flow_once(harness: Harness) -> None:
    first = _queued()
    response = harness.run(_record("m1", first), _record("m2", first))  # SQS at-least-once
    assert _failed_ids(response) == []
    assert harness.calls == [("ONCRMDEALADD", 7405)]
    harness.run(_record("m3", first))  # a later redelivery, another invocation
    assert harness.calls == [("ONCRMDEALADD", 7405)]


def test_two_changes_within_one_second_both_run(harness: Harness) -> None:
    # Same ts (one-second resolution), two deliveries: a second change that must not be dropped.
    first = _queued()
    second = {**first, "received_at": "2025-12-18T08:40:00Z"}
    harness.run(_record("m1", first), _record("m2", second))
    assert harness.calls == [("ONCRMDEALADD", 7405), ("ONCRMDEALADD", 7405)]


def test_a_newer_event_for_the_same_deal_runs_again(harness: Harness) -> None:
    harness.run(_record("m1", _queued()), _record("m2", _queued(ts=1766047999)))
    assert harness.calls == [("ONCRMDEALADD", 7405), ("ONCRMDEALADD", 7405)]


def test_unregistered_event_is_ignored_and_succeeds(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    response = harness.run(_record("delete", _queued("ONCRMDEALDELETE")))
    assert _failed_ids(response) == []
    assert harness.calls == []
    outcomes = [r.__dict__.get("outcome") for r in caplog.records if r.__dict__.get("step") == "outcome"]
    assert outcomes == ["ignored"]


@pytest.mark.parametrize("body", ["not json", json.dumps({"event": "ONCRMDEALADD"}), json.dumps([1])])
def test_unreadable_message_fails_so_it_reaches_the_dlq(harness: Harness, body: str) -> None:
    response = harness.run(_record("junk", body), _record("good", _queued()))
    assert _failed_ids(response) == ["junk"]
    assert harness.calls == [("ONCRMDEALADD", 7405)]


def test_sample_sqs_event_from_events_dir_is_processed(harness: Harness) -> None:
    event = json.loads((ROOT / "events" / "queue_worker" / "deal_add.json").read_text("utf-8"))
    response = harness.worker().process_batch(event, CONTEXT)
    assert _failed_ids(dict(response)) == []
    assert harness.calls == [("ONCRMDEALADD", 7405)]


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(lambda: OneCAccessDenied(401, None, "Unauthorized", "http://1c/odata/"), id="1c-401"),
        pytest.param(lambda: OneCAccessDenied(403, None, "Forbidden", "http://1c/odata/"), id="1c-403"),
        pytest.param(
            lambda: B24AuthError("NO_AUTH_FOUND", "Wrong authorization data", 401, "crm.deal.get"),
            id="b24-auth",
        ),
    ],
)
def test_refused_credentials_are_retried_not_acknowledged(refusal: Callable[[], Exception]) -> None:
    """An auth failure is the integration's outage: the message waits (then the DLQ), no audit."""
    registry = Registry()

    def deal_flow(queued: QueuedEvent) -> str:
        raise refusal()

    registry.register(["ONCRMDEALADD"], deal_flow)
    harness = Harness(registry, InMemoryIdempotencyStore(), FakeAudit(), [])
    response = harness.run(_record("refused", _queued()))
    assert _failed_ids(response) == ["refused"]
    assert harness.audit.failures == []


@dataclass
class FakeJournal:
    notes: list[tuple[str, str, str | None]] = field(default_factory=list)

    def record_handled(self, queued: QueuedEvent, status: str, detail: str | None) -> None:
        self.notes.append((queued.group_id, status, detail))


def test_every_log_line_of_a_record_carries_its_entity_as_the_correlation_id(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        harness.run(_record("a", _queued()), _record("b", _queued(entity_id=7406)))
    finally:
        logger.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    received = [line for line in lines if line.get("message") == "event received"]
    handled = [line for line in lines if line.get("message") == "event handled"]
    assert [line.get("correlation_id") for line in received] == ["DEAL-7405", "DEAL-7406"]
    assert [line.get("correlation_id") for line in handled] == ["DEAL-7405", "DEAL-7406"]


def test_every_handled_event_is_noted_for_the_records_journal(harness: Harness) -> None:
    journal = FakeJournal()
    worker = Worker(
        WorkerDeps(registry=harness.registry, persistence=harness.store, audit=harness.audit, journal=journal)
    )
    worker.process_batch(
        {"Records": [_record("ok", _queued()), _record("bad", _queued(entity_id=400))]}, CONTEXT
    )
    worker.process_batch({"Records": [_record("flaky", _queued(entity_id=500))]}, CONTEXT)

    assert journal.notes == [
        ("DEAL-7405", "done", "order synced"),
        ("DEAL-500", "retry", "1C answered 503"),
    ]
    assert harness.audit.failures == [("DEAL-400", "deal 400 has no company and no contact")]


# --- batch scopes: what a flow held back for the end of the invocation ---------------------------


@dataclass
class FakeScope:
    """Holds nothing real: `begin` notes the events; `finish` names failed groups or crashes."""

    failed: dict[str, str] = field(default_factory=dict)
    crash_on: str = ""
    seen: list[int] = field(default_factory=list)

    def begin(self, events: Any) -> None:
        self.seen = [e.id for e in events]
        if self.crash_on == "begin":
            raise RuntimeError("read-ahead broke")

    def finish(self) -> dict[str, str]:
        if self.crash_on == "finish":
            raise RuntimeError("flush broke")
        return self.failed


def _scoped_worker(scope: FakeScope, ran: list[int]) -> tuple[Worker, InMemoryIdempotencyStore]:
    def flow(queued: QueuedEvent) -> str:
        ran.append(queued.id)
        return "done"

    store = InMemoryIdempotencyStore()
    registry = Registry({"ONCRMDEALUPDATE": flow})
    return Worker(WorkerDeps(registry=registry, persistence=store, batch_scopes=(scope,))), store


def test_a_group_whose_held_write_failed_is_retried_and_runs_again() -> None:
    scope, ran = FakeScope(failed={"DEAL-2": "write-back failed: ACCESS_DENIED"}), list[int]()
    worker, store = _scoped_worker(scope, ran)
    event = {
        "Records": [
            _record("m1", _queued("ONCRMDEALUPDATE", 1)),
            _record("m2", _queued("ONCRMDEALUPDATE", 2)),
            _record("bad", "not json"),
        ]
    }

    response = worker.process_batch(event, CONTEXT)

    assert scope.seen == [1, 2]  # the unreadable body is not shown to the scope
    assert sorted(str(i["itemIdentifier"]) for i in response["batchItemFailures"]) == ["bad", "m2"]
    assert len(store.records) == 1  # DEAL-2's "done" is forgotten, DEAL-1's kept
    scope.failed = {}
    retry = worker.process_batch({"Records": [_record("m2", _queued("ONCRMDEALUPDATE", 2))]}, CONTEXT)
    assert retry["batchItemFailures"] == []
    assert ran == [1, 2, 2]  # the redelivery ran the flow again instead of replaying "done"


def test_a_scope_that_cannot_begin_leaves_records_to_run_and_one_that_crashes_retries_them_all() -> None:
    ran: list[int] = []
    worker, _ = _scoped_worker(FakeScope(crash_on="begin"), ran)
    event = {"Records": [_record("m1", _queued("ONCRMDEALUPDATE", 1))]}
    assert worker.process_batch(event, CONTEXT)["batchItemFailures"] == []
    assert ran == [1]

    worker, store = _scoped_worker(FakeScope(crash_on="finish"), ran)
    event = {"Records": [_record(f"m{n}", _queued("ONCRMDEALUPDATE", n)) for n in (3, 4)]}
    response = worker.process_batch(event, CONTEXT)
    assert sorted(str(i["itemIdentifier"]) for i in response["batchItemFailures"]) == ["m3", "m4"]
    assert store.records == {}
