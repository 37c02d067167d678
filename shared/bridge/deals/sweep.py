"""The safety net for lost events (Bitrix24 never retries a delivery): every few minutes, list the
deals modified since the last sweep and queue the ones whose 1C state may be behind.

Cheap by design: one fast-paged `crm.deal.list` (`>DATE_MODIFY`, ids ascending, pages chained in
batches) and one link read per deal; the full mapping and fingerprint comparison happens in the
worker, exactly as for a webhook event (the same `QueuedEvent`, the same FIFO group per deal). A
deal is queued when it has no order but sits where one would be created, or when it has an open
order and was modified after the modification the bridge last accounted for (`bridge.deals.seen`:
our own write-back does not count). The cursor (SyncTable, versioned) moves to the newest
DATE_MODIFY seen, minus an overlap that covers clock skew between Bitrix24 and this function.

The cursor moves whatever happened to the queued deals, so a deal whose sync then failed (parked
in the DLQ, or failed as permanent) would never be looked at again unless someone edited it.
Every deal the sweep queues is therefore kept in the cursor's retry set: once its backoff is due
the sweep reads it again (one `@ID` list per 50 due deals) and asks the same question — still
behind in 1C? Healed deals leave the set; the others are queued again with a doubled backoff,
and after `MAX_RETRIES` the sweep gives up and reports (audit item, error log, `DealSweepGaveUp`
metric, alarmed). A run costs the window plus the deals that are due, never the old failures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bridge.deals.decisions import OrderOutcome, TriggerRule
from bridge.deals.models import Deal, parse_wire
from bridge.deals.refs import deal_ref
from bridge.deals.resolved import DealResolved, resolved_config
from bridge.deals.seen import modified_since
from bridge.domain.events import Entity, EventSender, QueuedEvent
from bridge.observability import logger, metrics
from bridge.ports import Ports

CURSOR = "deal-sweep"
OVERLAP = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(hours=1)
SWEEP_EVENT = "ONCRMDEALUPDATE"
SELECT = ["ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "DATE_MODIFY"]
# Re-checks of a queued deal: after 10, 20, 40, 80, 160 minutes (about 5 h), then reported.
RETRY_BASE = timedelta(minutes=10)
MAX_RETRIES = 5
AUDIT_FLOW = "deals"
_IDS_PER_LIST = 50


@dataclass(frozen=True)
class SweepResult:
    seen: int
    queued: tuple[int, ...]
    since: str
    until: str
    retried: tuple[int, ...] = ()  # queued again: still behind after an earlier queueing
    healed: tuple[int, ...] = ()  # caught up since they were queued: no longer tracked
    gave_up: tuple[int, ...] = ()  # still behind after MAX_RETRIES: reported, no longer tracked
    checked: int = 0  # tracked deals read again this run (the run's cost beyond the window)


def _b24_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def needs_sync(ports: Ports, deal: Deal, resolved: DealResolved) -> bool:
    link = ports.store.links.find_by_b24(deal_ref(deal.id))
    if link is None:
        return TriggerRule(resolved.stage_book, ports.mapping.deal).may_create(deal)
    if link.extra.get("outcome", OrderOutcome.OPEN.value) != OrderOutcome.OPEN.value:
        return False
    return modified_since(deal.date_modify, link)


def queued_event(deal: Deal, now: datetime) -> QueuedEvent:
    moment = deal.date_modify or now
    return QueuedEvent(
        event=SWEEP_EVENT, entity=Entity.DEAL, id=deal.id, ts=int(moment.timestamp()), received_at=now
    )


@dataclass(frozen=True)
class Retry:
    """A queued deal the sweep checks again: how often it was queued, when to look next."""

    attempts: int
    due: datetime
    first: datetime

    @classmethod
    def decode(cls, raw: Any, now: datetime) -> Retry:
        try:
            return cls(
                attempts=int(raw["attempts"]),
                due=datetime.fromisoformat(str(raw["due"])),
                first=datetime.fromisoformat(str(raw["first"])),
            )
        except (KeyError, TypeError, ValueError):
            return cls(attempts=1, due=now, first=now)  # a damaged entry is simply checked now

    def encode(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "due": self.due.isoformat(), "first": self.first.isoformat()}

    def again(self, now: datetime) -> Retry:
        return Retry(self.attempts + 1, now + RETRY_BASE * 2**self.attempts, self.first)


def _send(sender: EventSender, event: QueuedEvent, attempt: int) -> None:
    # A retry needs its own key: FIFO deduplication and the worker's idempotency record would
    # otherwise answer the repeated event with the stored (failed) outcome instead of running it.
    dedup = hashlib.sha256(f"sweep|{event.business_key}|{attempt}".encode()).hexdigest()
    sender.send(event.model_dump_json(), group_id=event.group_id, deduplication_id=dedup)


def _deals_by_id(ports: Ports, ids: Iterable[int]) -> dict[int, Deal]:
    found: dict[int, Deal] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), _IDS_PER_LIST):
        chunk = wanted[start : start + _IDS_PER_LIST]
        for row in ports.b24.list_all("crm.deal.list", {"filter": {"@ID": chunk}, "select": SELECT}):
            deal = parse_wire(Deal, row, f"deal {row.get('ID')}")
            found[deal.id] = deal
    return found


@dataclass
class _Tracking:
    """What the cursor keeps besides the window: the queued deals being checked again, and the
    deals given up on with the DATE_MODIFY they had then (the window's overlap may list them
    again, but only an edit — a newer DATE_MODIFY — makes them worth tracking again). `listed`:
    the tracked deals this run's window listed (their retry decides, without reading them again)."""

    now: datetime
    retry: dict[int, Retry]
    given_up: dict[int, datetime]
    listed: dict[int, Deal] = field(default_factory=dict)

    @classmethod
    def decode(cls, value: dict[str, Any], now: datetime) -> _Tracking:
        raw_retry, raw_given_up = value.get("retry"), value.get("gave_up")
        retry = {
            int(key): Retry.decode(entry, now)
            for key, entry in (raw_retry.items() if isinstance(raw_retry, dict) else ())
            if str(key).isdigit()
        }
        given_up = {
            int(key): moment
            for key, entry in (raw_given_up.items() if isinstance(raw_given_up, dict) else ())
            if str(key).isdigit() and (moment := _moment(entry)) is not None
        }
        return cls(now, retry, given_up)

    def encode(self, value: dict[str, Any], horizon: datetime) -> dict[str, Any]:
        if self.retry:
            value["retry"] = {str(deal_id): entry.encode() for deal_id, entry in sorted(self.retry.items())}
        # Out of the window means forgotten: the memo never grows with old failures.
        kept = {str(k): v.isoformat() for k, v in sorted(self.given_up.items()) if v >= horizon}
        if kept:
            value["gave_up"] = kept
        return value

    def skips(self, deal: Deal) -> bool:
        return deal.id in self.given_up and (deal.date_modify or self.now) <= self.given_up[deal.id]


def sweep(ports: Ports, sender: EventSender, now: datetime | None = None) -> SweepResult:
    now = now or datetime.now(UTC)
    resolved = resolved_config(ports.store).load()
    cursor = ports.store.cursors.get(CURSOR)
    since = (
        datetime.fromisoformat(str(cursor.value["since"]))
        if cursor is not None and cursor.value.get("since")
        else now - FIRST_LOOKBACK
    )
    memo = _Tracking.decode(cursor.value if cursor is not None else {}, now)
    newest = since
    seen = 0
    queued: list[int] = []
    rows = ports.b24.list_all(
        "crm.deal.list", {"filter": {">DATE_MODIFY": _b24_time(since - OVERLAP)}, "select": SELECT}, fast=True
    )
    for row in rows:
        deal = parse_wire(Deal, row, f"deal {row.get('ID')}")
        seen += 1
        if deal.date_modify is not None and deal.date_modify > newest:
            newest = deal.date_modify
        if deal.id in memo.retry:
            memo.listed[deal.id] = deal
            continue
        if memo.skips(deal):
            continue
        if needs_sync(ports, deal, resolved):
            memo.given_up.pop(deal.id, None)
            _send(sender, queued_event(deal, now), 1)
            memo.retry[deal.id] = Retry(1, now + RETRY_BASE, now)
            queued.append(deal.id)
    retried, healed, gave_up, checked = _check_due(ports, sender, memo, resolved)
    value = memo.encode({"since": newest.isoformat()}, newest - OVERLAP)
    ports.store.cursors.put(CURSOR, value, expected_version=cursor.version if cursor else None)
    if gave_up:
        metrics.add_metric(name="DealSweepGaveUp", unit=MetricUnit.Count, value=len(gave_up))
    return SweepResult(
        seen=seen,
        queued=tuple(queued),
        since=since.isoformat(),
        until=newest.isoformat(),
        retried=tuple(retried),
        healed=tuple(healed),
        gave_up=tuple(gave_up),
        checked=checked,
    )


def _moment(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def _check_due(
    ports: Ports, sender: EventSender, memo: _Tracking, resolved: DealResolved
) -> tuple[list[int], list[int], list[int], int]:
    """Look at the due tracked deals again; queue, drop or give up on each (mutates `memo`).
    Deals the window already listed are not read twice."""
    retry, given_up, listed, now = memo.retry, memo.given_up, memo.listed, memo.now
    due = [deal_id for deal_id, entry in retry.items() if entry.due <= now]
    if not due:
        return [], [], [], 0
    deals = {deal_id: listed[deal_id] for deal_id in due if deal_id in listed}
    deals.update(_deals_by_id(ports, [deal_id for deal_id in due if deal_id not in listed]))
    retried: list[int] = []
    healed: list[int] = []
    gave_up: list[int] = []
    for deal_id in sorted(due):
        entry = retry[deal_id]
        deal = deals.get(deal_id)
        if deal is None or not needs_sync(ports, deal, resolved):
            # Caught up (or deleted in Bitrix24): nothing left to heal.
            del retry[deal_id]
            healed.append(deal_id)
            logger.info("deal caught up after the sweep queued it", extra={"deal_id": deal_id})
            continue
        if entry.attempts > MAX_RETRIES:
            del retry[deal_id]
            gave_up.append(deal_id)
            given_up[deal_id] = deal.date_modify or now
            reason = (
                f"still behind in 1C after {entry.attempts} queueings since {entry.first.isoformat()}; "
                "see this deal's timeline comment and earlier audit items"
            )
            ports.store.audit.record(AUDIT_FLOW, f"DEAL-{deal_id}", "sweep-gave-up", {"reason": reason})
            logger.error("deal sweep gave up on a deal", extra={"deal_id": deal_id, "reason": reason})
            continue
        retry[deal_id] = entry.again(now)
        _send(sender, queued_event(deal, now), retry[deal_id].attempts)
        retried.append(deal_id)
    return retried, healed, gave_up, len(due)
