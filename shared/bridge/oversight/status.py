"""The system at a glance: the events queue and its DLQ, each scheduled flow's last run and lag,
the Bitrix24 rate budget and each method's operating-time headroom (as the Lambdas last published
it), and the last 24 h of audited problems by flow and reason."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bridge.b24.operating import WINDOW_S, MethodOperating
from bridge.oversight.runs import LastRun, last_runs
from bridge.store import SyncStore
from bridge.store.ratebucket import RATE_KEY, RATE_SORT_KEY

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_DEPTH = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
# Audit outcomes that record work done, not a problem: left out of "failures".
ROUTINE = frozenset({"synced", "done", "ignored", "CopiedToMaterials", "b24_deleted"})


@dataclass(frozen=True)
class QueueDepth:
    name: str
    visible: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class Failures:
    flow: str
    outcome: str
    count: int
    last_reason: str
    last_at: datetime


@dataclass(frozen=True)
class RateBudget:
    burst: int
    per_second: float
    level: float  # requests in the bucket now (the leak since the last call applied)

    @property
    def left(self) -> float:
        return max(self.burst - self.level, 0.0)


@dataclass(frozen=True)
class Status:
    now: datetime
    queues: list[QueueDepth]
    runs: list[LastRun]
    rate: RateBudget
    failures: list[Failures]
    notes: list[str] = field(default_factory=list)
    operating: list[MethodOperating] = field(default_factory=list)  # current ones, nearest budget first

    @property
    def worst(self) -> MethodOperating | None:
        """The method with the least operating-time headroom."""
        return self.operating[0] if self.operating else None

    def blocked(self) -> list[MethodOperating]:
        return [m for m in self.operating if m.blocked(self.now.timestamp())]

    def late(self, run: LastRun) -> bool:
        """No finished run within three periods (or never): the schedule is not running."""
        return run.finished_at is None or (self.now - run.finished_at).total_seconds() > 3 * run.period_s


def status(
    store: SyncStore, sqs: SQSClient | None, queue_url: str | None, *, burst: int, per_second: float
) -> Status:
    now = store.table.now()
    notes: list[str] = []
    queues = _queues(sqs, queue_url, notes)
    return Status(
        now=now,
        queues=queues,
        runs=last_runs(store),
        rate=_rate(store, burst, per_second),
        failures=failures(store, now - timedelta(hours=24)),
        notes=notes,
        operating=current_operating(store, now.timestamp()),
    )


def current_operating(store: SyncStore, now: float) -> list[MethodOperating]:
    """The published per-method figures still inside the portal's window: usage seen longer
    ago than the window has expired on the portal, unless the method is still blocked."""
    return [m for m in store.operating.read() if now - m.seen_at < WINDOW_S or m.blocked(now)]


def failures(store: SyncStore, since: datetime) -> list[Failures]:
    entries = [e for e in store.audit.since(since) if e.outcome not in ROUTINE]
    counts = Counter((e.flow, e.outcome) for e in entries)
    latest = {(e.flow, e.outcome): e for e in entries}  # oldest first, so the last one wins
    return [
        Failures(flow, outcome, count, reason_of(latest[flow, outcome].detail), latest[flow, outcome].at)
        for (flow, outcome), count in counts.most_common()
    ]


def reason_of(detail: dict[str, Any]) -> str:
    for key in ("reason", "error", "text", "detail"):
        if detail.get(key):
            return str(detail[key])
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def _queues(sqs: SQSClient | None, queue_url: str | None, notes: list[str]) -> list[QueueDepth]:
    if sqs is None or not queue_url:
        notes.append("queue depth unknown: BRIDGE_QUEUE_URL is not set")
        return []
    found = [_depth(sqs, "events", queue_url)]
    policy = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    redrive = policy.get("Attributes", {}).get("RedrivePolicy")
    if redrive is None:
        notes.append("the events queue has no dead-letter queue")
        return found
    dlq_name = json.loads(redrive)["deadLetterTargetArn"].rsplit(":", 1)[-1]
    found.append(_depth(sqs, "dead letters", sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]))
    return found


def _depth(sqs: SQSClient, name: str, url: str) -> QueueDepth:
    answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(_DEPTH))  # type: ignore[arg-type]
    attributes: dict[str, str] = {str(k): v for k, v in answer.get("Attributes", {}).items()}
    visible, in_flight, delayed = (int(attributes.get(a, "0")) for a in _DEPTH)
    return QueueDepth(name, visible, in_flight, delayed)


def _rate(store: SyncStore, burst: int, per_second: float) -> RateBudget:
    item = store.table.get(RATE_KEY, RATE_SORT_KEY)
    if not item:
        return RateBudget(burst, per_second, 0.0)
    level, updated_at = float(item["level"]["N"]), float(item["updated_at"]["N"])
    leaked = max(store.table.clock() - updated_at, 0.0) * per_second
    return RateBudget(burst, per_second, max(level - leaked, 0.0))
