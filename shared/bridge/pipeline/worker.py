"""Queue worker logic: each queued event runs its flow once; failures are retried or reported.

The one place that decides what a failure means for a queued event:

- `TransientError` (other side down, rate limit) and anything unexpected: the record is reported
  failed, SQS redelivers it after the visibility timeout and parks it in the DLQ after 5 receives.
- `PermanentError` (bad data, bad configuration): logged, counted, audited (SyncTable audit item),
  and the record *succeeds* — redelivering cannot help, a person has to act.
- `SetupMissing` (setup has not run since the deploy or a reset): not the event's fault and not
  final. The record is reported failed, so the event waits in the queue and comes back after
  `setup_retry_delays_s` (5 min, 15 min, 1 h, 4 h: the DLQ only after ~9 h 20 min, the queue's
  maxReceiveCount of 5 unchanged); no audit item, no `EventsFailedPermanently`. The flow's
  resolved-config read counts `SetupMissing`, whose alarm asks for setup.
- A body that is not a `QueuedEvent`: only our receiver writes to the queue, so this is a bug or a
  hand-made message. It is reported failed so that it ends in the DLQ (with the alarm) after 5
  receives instead of vanishing; a person can read it there.

Time and retries (docs/reliability.md): each record runs under a time budget cut from what is left
of the invocation (`bridge.deadline`), so one hung call fails its own record instead of timing out
the whole invocation (which would return every record of the batch, done or not, to the queue).
A record that failed for a transient reason is made invisible for a growing delay chosen by its
receive count (`retry_delays_s`), so the 5 receives before the DLQ span hours, not the 30 minutes
of the queue's fixed visibility timeout: an outage of the other side shorter than that never
parks an event in the DLQ. A record not started for lack of time is returned at once.

Coalescing (issue 15): a flow may hand the worker a `BatchScope`. The worker shows it the batch's
readable events before the first record runs (the deal flow reads all their deals at once) and
asks it, after the last record, to send what it held back (the deal flow's write-backs, in one
call). The groups it names as not landed have their handled records reported failed, their
idempotency records forgotten and a journal line: the queue redelivers them and the flow runs again.

Idempotency is keyed on the event itself (event, entity, id, ts), so a redelivery or a duplicate
delivery of the same Bitrix24 event runs the flow once; the stored `Outcome` is returned instead.
A flow that failed leaves no record, so its retry runs it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from bridge import deadline
from bridge.domain.events import QueuedEvent
from bridge.errors import BridgeError, PermanentError, SetupMissing, TransientError
from bridge.observability import correlated, logger, metrics
from bridge.pipeline.dispatch import Outcome, Registry
from bridge.pipeline.idempotency import idempotency_config


class UnreadableMessage(BridgeError):
    """A queue message that is not a QueuedEvent."""


class NotStarted(TransientError):
    """Too little of the invocation was left to start this record; it goes back at once."""


class WaitingForSetup(TransientError):
    """The flow needs setup first; the event waits in the queue (see the module docstring)."""


class Visibility(Protocol):
    """Makes a received message invisible for `seconds` from now (SQS ChangeMessageVisibility)."""

    def delay(self, record: SQSRecord, seconds: int) -> None: ...


class SqsVisibility:
    """ChangeMessageVisibility on the record's own queue (the events queue's URL from settings, or
    built from the record's ARN)."""

    def __init__(self, sqs: Any, queue_url: str | None) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def _url(self, record: SQSRecord) -> str:
        if self._queue_url:
            return self._queue_url
        _, _, _, region, account, name = record.event_source_arn.split(":", 5)
        return f"https://sqs.{region}.amazonaws.com/{account}/{name}"

    def delay(self, record: SQSRecord, seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self._url(record), ReceiptHandle=record.receipt_handle, VisibilityTimeout=seconds
        )


# After the n-th failed receive the message waits retry_delays_s[n-1] (the last one repeats).
# 2 + 10 + 30 + 120 minutes: the 5th and last receive comes ~2 h 40 min after the first.
DEFAULT_RETRY_DELAYS_S = (120, 600, 1800, 7200)
# While setup has not run: 5 + 15 + 60 + 240 minutes. The 5th receive comes ~5 h 20 min after the
# first and the DLQ (maxReceiveCount 5) ~4 h later, so a deploy whose setup step was forgotten
# or failed loses nothing for a working day; the SetupMissing alarm fires within 5 minutes, and
# events that reach the DLQ anyway come back with `replay` once setup has run.
SETUP_RETRY_DELAYS_S = (300, 900, 3600, 14400)


class AuditSink(Protocol):
    """Where permanent failures are recorded for people (the link store's audit items)."""

    def record_failure(self, queued: QueuedEvent, reason: str) -> None: ...


class JournalSink(Protocol):
    """Where every handled event is noted against its record (`journal deal 42` reads it)."""

    def record_handled(self, queued: QueuedEvent, status: str, detail: str | None) -> None: ...


class BatchScope(Protocol):
    """A flow's wiring around one invocation (see the module docstring)."""

    def begin(self, events: Sequence[QueuedEvent]) -> None: ...

    def finish(self) -> Mapping[str, str]:
        """FIFO group → why what was held back for it did not land."""
        ...


class HeldBackFailed(TransientError):
    """What a flow held back for the end of the invocation did not land; the record is retried."""


def fifo_processor() -> SqsFifoPartialProcessor:
    # Ordering within an entity matters (ADD before UPDATE): after a failure, the rest of that
    # entity's messages in the batch are returned unprocessed; other entities carry on.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # A batch whose every record failed is still an answer, not a crash: Lambda returns the named
    # records to the queue either way, and a crash would page people through the errors alarm.
    processor.raise_on_entire_batch_failure = False
    return processor


@dataclass(frozen=True)
class WorkerDeps:
    """What the worker talks to and how it paces itself (built in `bridge.deps`; tests pass fakes).
    The registry's flows carry the ports they act on."""

    registry: Registry
    persistence: BasePersistenceLayer
    audit: AuditSink | None = None
    journal: JournalSink | None = None
    visibility: Visibility | None = None
    processor_factory: Callable[[], SqsFifoPartialProcessor] = fifo_processor
    idempotency_ttl_s: int = 3600
    retry_delays_s: tuple[int, ...] = DEFAULT_RETRY_DELAYS_S
    setup_retry_delays_s: tuple[int, ...] = SETUP_RETRY_DELAYS_S
    # What one record may use at least (a fair share of the invocation when that is more), and
    # what is kept back for the batch answer.
    record_budget_s: float = 25.0
    reserve_s: float = 5.0
    # Below this much time left a record is not started (an attempt could not finish).
    min_start_s: float = 2.0
    clock: Callable[[], float] = field(default=deadline.now)
    batch_scopes: tuple[BatchScope, ...] = ()


def _readable(event: dict[str, Any]) -> list[tuple[str, QueuedEvent]]:
    """(message id, event) of every record whose body is a queued event (the others fail alone)."""
    found = []
    for raw in event.get("Records", []):
        record = SQSRecord(raw)
        try:
            found.append((record.message_id, parse_message(record.body)))
        except UnreadableMessage:
            continue
    return found


def parse_message(body: str) -> QueuedEvent:
    try:
        return QueuedEvent.model_validate_json(body)
    except ValidationError as error:
        raise UnreadableMessage(f"not a queued event: {error.error_count()} problem(s)") from None


def _log_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    logger.info(
        "event already processed; stored outcome returned", extra={"step": "outcome", "duplicate": True}
    )
    metrics.add_metric(name="EventsDuplicate", unit=MetricUnit.Count, value=1)
    return response


class Worker:
    def __init__(self, deps: WorkerDeps) -> None:
        self._deps = deps
        self._ends_at = float("inf")  # set per invocation by process_batch
        self._not_started: set[str] = set()
        self._waiting_setup: set[str] = set()
        self._records_left = 1
        self._config = idempotency_config(deps.idempotency_ttl_s, response_hook=_log_replayed)
        self._dispatch_once: Callable[..., Outcome] = idempotent_function(
            self._dispatch,
            data_keyword_argument="queued",
            persistence_store=deps.persistence,
            config=self._config,
            output_serializer=PydanticSerializer(model=Outcome),
            # Independent of the deployed function name, so AWS and the local stack agree.
            key_prefix="b24-event",
        )

    def process_batch(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        # Lets the idempotency layer expire an in-progress record when this invocation times out.
        self._config.register_lambda_context(context)
        clock = self._deps.clock
        self._ends_at = clock() + context.get_remaining_time_in_millis() / 1000 - self._deps.reserve_s
        self._not_started = set()
        self._waiting_setup = set()
        self._records_left = max(len(event.get("Records", [])), 1)
        readable = _readable(event)
        self._begin([queued for _, queued in readable])
        response = process_partial_response(
            event=event,
            record_handler=self.handle_record,
            processor=self._deps.processor_factory(),
            context=context,
        )
        self._finish(readable, response)
        self._schedule_retries(event, response)
        return response

    def _begin(self, events: list[QueuedEvent]) -> None:
        for scope in self._deps.batch_scopes:
            try:
                scope.begin(events)
            except Exception:
                # Reading ahead is an optimisation: each record still reads for itself.
                logger.exception("batch scope could not begin; records run one by one")

    def _finish(self, readable: list[tuple[str, QueuedEvent]], response: PartialItemFailureResponse) -> None:
        """Send what the flows held back; fail and forget the records whose part did not land."""
        failed_groups: dict[str, str] = {}
        # Inside the invocation, with a second for the answer: a held write that would outlive
        # the invocation fails here instead, so its records are retried, not lost as "done".
        left = self._ends_at + self._deps.reserve_s - self._deps.clock() - 1.0
        for scope in self._deps.batch_scopes:
            try:
                with deadline.budget(max(left, 0.5)):
                    failed_groups.update(scope.finish())
            except Exception as error:
                # Unknown which part landed: every handled record runs again (a rerun is safe).
                logger.exception("batch scope could not finish; every record is retried")
                failed_groups.update({q.group_id: f"crashed: {type(error).__name__}" for _, q in readable})
        if not failed_groups:
            return
        failures = response.setdefault("batchItemFailures", [])
        already = {item["itemIdentifier"] for item in failures}
        for message_id, queued in readable:
            reason = failed_groups.get(queued.group_id)
            if reason is None or message_id in already:
                continue
            failures.append({"itemIdentifier": message_id})
            logger.warning(
                "held-back write did not land; the event is retried",
                extra={
                    "step": "outcome",
                    "outcome": "retry",
                    "entity_key": queued.group_id,
                    "message_id": message_id,
                    "reason": reason,
                },
            )
            metrics.add_metric(name="EventsRetried", unit=MetricUnit.Count, value=1)
            self._note(queued, "retry", reason)
            try:
                # Without this the redelivery would get the stored "done" and never write again.
                self._deps.persistence.delete_record(queued.model_dump(mode="json"), HeldBackFailed(reason))
            except Exception:
                logger.exception(
                    "could not forget the idempotency record: the redelivery returns the stored "
                    "outcome; the entity's next event writes again",
                    extra={"entity_key": queued.group_id},
                )

    def handle_record(self, record: SQSRecord) -> Outcome:
        left = self._ends_at - self._deps.clock()
        if left < self._deps.min_start_s:
            self._not_started.add(record.message_id)
            logger.warning(
                "record not started: the invocation is nearly out of time; returned to the queue",
                extra={"step": "received", "message_id": record.message_id, "left_s": round(left, 3)},
            )
            metrics.add_metric(name="EventsDeferred", unit=MetricUnit.Count, value=1)
            raise NotStarted(f"{left:.1f} s left in the invocation")
        try:
            queued = parse_message(record.body)
        except UnreadableMessage as error:
            logger.error(str(error), extra={"step": "received", "message_id": record.message_id})
            metrics.add_metric(name="MessagesUnreadable", unit=MetricUnit.Count, value=1)
            raise
        logger.append_keys(entity_key=queued.group_id)
        # At least `record_budget_s`, more when few records are left to share the invocation: a
        # slow record in a small batch is not cut short for the sake of records that do not exist.
        share = left / self._records_left
        self._records_left = max(self._records_left - 1, 1)
        try:
            with (
                correlated(queued.group_id),
                deadline.budget(min(left, max(self._deps.record_budget_s, share))),
            ):
                return self._handle(queued, record.message_id)
        except WaitingForSetup:
            self._waiting_setup.add(record.message_id)
            raise
        finally:
            logger.remove_keys(["entity_key"])

    def retry_delay(self, receive_count: int, *, setup_missing: bool = False) -> int:
        delays = self._deps.setup_retry_delays_s if setup_missing else self._deps.retry_delays_s
        return delays[min(max(receive_count, 1), len(delays)) - 1]

    def _schedule_retries(self, event: dict[str, Any], response: PartialItemFailureResponse) -> None:
        """Back off each failed record by its receive count; return the not-started ones at once."""
        visibility = self._deps.visibility
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        if visibility is None or not failed:
            return
        for raw in event.get("Records", []):
            record = SQSRecord(raw)
            if record.message_id not in failed:
                continue
            if record.message_id in self._not_started:
                seconds = 0
            else:
                receives = int(record.attributes.approximate_receive_count or 1)
                seconds = self.retry_delay(receives, setup_missing=record.message_id in self._waiting_setup)
            try:
                visibility.delay(record, seconds)
            except Exception as error:
                # The queue's own visibility timeout still brings it back; only the pacing is lost.
                logger.warning(
                    "could not set the retry delay",
                    extra={"message_id": record.message_id, "error": type(error).__name__},
                )

    def _handle(self, queued: QueuedEvent, message_id: str) -> Outcome:
        logger.info(
            "event received", extra={"step": "received", "event": queued.event, "message_id": message_id}
        )
        try:
            outcome = self._dispatch_once(queued=queued)
        except SetupMissing as error:
            logger.warning(
                "setup has not run; the event waits in the queue",
                extra={"step": "outcome", "outcome": "waiting-for-setup", "reason": str(error)},
            )
            raise WaitingForSetup(str(error)) from error
        except PermanentError as error:
            return self._give_up(queued, error)
        except TransientError as error:
            logger.warning(
                "flow failed; the queue will retry",
                extra={"step": "outcome", "outcome": "retry", "reason": str(error)},
            )
            metrics.add_metric(name="EventsRetried", unit=MetricUnit.Count, value=1)
            self._note(queued, "retry", str(error))
            raise
        except Exception as error:
            # A bug or a crash mid-flow: retried like a transient failure (then the DLQ and its
            # alarm), and never without a trace in the log.
            logger.exception(
                "flow crashed; the queue will retry", extra={"step": "outcome", "outcome": "retry"}
            )
            metrics.add_metric(name="EventsRetried", unit=MetricUnit.Count, value=1)
            self._note(queued, "retry", f"crashed: {type(error).__name__}")
            raise
        metrics.add_metric(
            name="EventsIgnored" if outcome.status == "ignored" else "EventsProcessed",
            unit=MetricUnit.Count,
            value=1,
        )
        logger.info(
            "event handled",
            extra={
                "step": "outcome",
                "event": queued.event,
                "outcome": outcome.status,
                "detail": outcome.detail,
            },
        )
        self._note(queued, outcome.status, outcome.detail)
        return outcome

    def _note(self, queued: QueuedEvent, status: str, detail: str | None) -> None:
        if self._deps.journal is None:
            return
        try:
            self._deps.journal.record_handled(queued, status, detail)
        except Exception:
            # The outcome is logged; a lost journal line must not turn a handled event into a retry.
            logger.exception("could not write the journal item")

    def _dispatch(self, *, queued: QueuedEvent) -> Outcome:
        handler = self._deps.registry.handler_for(queued.event)
        logger.info(
            "event dispatched",
            extra={
                "step": "dispatched",
                "event": queued.event,
                "flow": handler.__qualname__ if handler is not None else None,
            },
        )
        return self._deps.registry.dispatch(queued)

    def _give_up(self, queued: QueuedEvent, error: PermanentError) -> Outcome:
        reason = str(error)
        logger.error(
            "flow failed permanently; not retried",
            extra={"step": "outcome", "outcome": "failed", "event": queued.event, "reason": reason},
        )
        metrics.add_metric(name="EventsFailedPermanently", unit=MetricUnit.Count, value=1)
        if self._deps.audit is not None:
            try:
                self._deps.audit.record_failure(queued, reason)
            except Exception:
                # The failure is already logged and counted; losing its audit item must not turn a
                # finished record into an endless retry.
                logger.exception("could not write the audit item")
        return Outcome(event=queued.event, entity=queued.entity, id=queued.id, status="failed", detail=reason)
