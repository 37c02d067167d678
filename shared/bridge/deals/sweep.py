"""The safety net for lost events (Bitrix24 never retries a delivery): every few minutes, list the
deals modified since the last sweep and queue the ones whose 1C state may be behind.

Cheap by design: one fast-paged `crm.deal.list` (`>DATE_MODIFY`, ids ascending, pages chained in
batches) and one link read per deal; the full mapping and fingerprint comparison happens in the
worker, exactly as for a webhook event (the same `QueuedEvent`, the same FIFO group per deal). A
deal is queued when it has no order but sits where one would be created, or when it has an open
order and was modified after the last sync. The cursor (SyncTable, versioned) moves to the newest
DATE_MODIFY seen, minus an overlap that covers clock skew between Bitrix24 and this function.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bridge.deals.decisions import OrderOutcome
from bridge.deals.flow import deal_ref
from bridge.deals.models import Deal, parse_wire
from bridge.deals.resolved import DealResolved, load
from bridge.deals.stages import StageBook
from bridge.deps import Ports
from bridge.pipeline.models import Entity, QueuedEvent
from bridge.pipeline.queue import EventSender
from bridge.settings import DealMapping

CURSOR = "deal-sweep"
OVERLAP = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(hours=1)
SWEEP_EVENT = "ONCRMDEALUPDATE"
SELECT = ["ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "DATE_MODIFY"]


@dataclass(frozen=True)
class SweepResult:
    seen: int
    queued: tuple[int, ...]
    since: str
    until: str


def _b24_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _may_create(deal: Deal, book: StageBook, mapping: DealMapping) -> bool:
    stage = book.stage(deal.stage_id)
    if stage is None or stage.semantics != "P":
        return False
    if mapping.create_order_on == "deal_created":
        return True
    triggers = book.trigger_stages(mapping)
    return any(t.category_id == stage.category_id and stage.sort >= t.sort for t in triggers)


def needs_sync(ports: Ports, deal: Deal, resolved: DealResolved) -> bool:
    link = ports.links.find_by_b24(deal_ref(deal.id))
    if link is None:
        return _may_create(deal, resolved.stage_book, ports.mapping.deal)
    if link.extra.get("outcome", OrderOutcome.OPEN.value) != OrderOutcome.OPEN.value:
        return False
    return deal.date_modify is None or deal.date_modify > link.synced_at


def queued_event(deal: Deal, now: datetime) -> QueuedEvent:
    moment = deal.date_modify or now
    return QueuedEvent(
        event=SWEEP_EVENT, entity=Entity.DEAL, id=deal.id, ts=int(moment.timestamp()), received_at=now
    )


def sweep(ports: Ports, sender: EventSender, now: datetime | None = None) -> SweepResult:
    now = now or datetime.now(UTC)
    resolved = load(ports.links)
    cursor = ports.links.get_cursor(CURSOR)
    since = (
        datetime.fromisoformat(str(cursor.value["since"]))
        if cursor is not None and cursor.value.get("since")
        else now - FIRST_LOOKBACK
    )
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
        if needs_sync(ports, deal, resolved):
            event = queued_event(deal, now)
            dedup = hashlib.sha256(f"sweep|{event.business_key}".encode()).hexdigest()
            sender.send(event.model_dump_json(), group_id=event.group_id, deduplication_id=dedup)
            queued.append(deal.id)
    value = {"since": newest.isoformat()}
    ports.links.put_cursor(CURSOR, value, expected_version=cursor.version if cursor else None)
    return SweepResult(seen=seen, queued=tuple(queued), since=since.isoformat(), until=newest.isoformat())
