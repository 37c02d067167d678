"""While setup has not run, a queued event is not the event's fault: it waits in the queue with a
long backoff instead of being failed permanently (no audit item, no EventsFailedPermanently)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bridge.domain.events import QueuedEvent
from bridge.errors import SetupMissing, TransientError
from bridge.pipeline.dispatch import Registry
from bridge.pipeline.worker import SETUP_RETRY_DELAYS_S, Worker, WorkerDeps
from tests.unit.test_pipeline_worker import (
    CONTEXT,
    FakeAudit,
    InMemoryIdempotencyStore,
    _failed_ids,
    _queued,
    _record,
)


@dataclass
class RecordedVisibility:
    delays: list[tuple[str, int]] = field(default_factory=list)

    def delay(self, record: SQSRecord, seconds: int) -> None:
        self.delays.append((record.message_id, seconds))


def _worker(audit: FakeAudit, visibility: RecordedVisibility) -> Worker:
    registry = Registry()

    def deal_flow(queued: QueuedEvent) -> str:
        if queued.id == 500:
            raise TransientError("1C answered 503")
        raise SetupMissing("deals flow: no resolved configuration (CONFIG#deals) in SyncTable — run setup")

    registry.register(["ONCRMDEALADD"], deal_flow)
    return Worker(
        WorkerDeps(
            registry=registry, persistence=InMemoryIdempotencyStore(), audit=audit, visibility=visibility
        )
    )


def _received(record: dict[str, Any], times: int) -> dict[str, Any]:
    return record | {"attributes": record["attributes"] | {"ApproximateReceiveCount": str(times)}}


def test_an_event_before_setup_waits_in_the_queue_and_is_not_audited_as_failed() -> None:
    audit, visibility = FakeAudit(), RecordedVisibility()
    response = _worker(audit, visibility).process_batch({"Records": [_record("m1", _queued())]}, CONTEXT)
    assert _failed_ids(dict(response)) == ["m1"]  # back to the queue, not acknowledged
    assert audit.failures == []
    assert visibility.delays == [("m1", SETUP_RETRY_DELAYS_S[0])]


def test_the_setup_backoff_grows_to_hours_so_the_dlq_is_not_reached_quickly() -> None:
    audit, visibility = FakeAudit(), RecordedVisibility()
    worker = _worker(audit, visibility)
    for times in range(1, 6):
        worker.process_batch({"Records": [_received(_record(f"m{times}", _queued()), times)]}, CONTEXT)
    waited = [seconds for _, seconds in visibility.delays]
    assert waited == [300, 900, 3600, 14400, 14400]
    # Five receives (the queue's maxReceiveCount) span more than 9 hours before the DLQ.
    assert sum(waited) > 9 * 3600


def test_a_transient_failure_keeps_its_own_shorter_backoff() -> None:
    audit, visibility = FakeAudit(), RecordedVisibility()
    _worker(audit, visibility).process_batch({"Records": [_record("flaky", _queued(entity_id=500))]}, CONTEXT)
    assert visibility.delays == [("flaky", 120)]
