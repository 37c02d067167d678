"""The scheduled run (every minute): find what changed in 1C and recompute the affected orders.

1. Payments: list `Ref_Key, DataVersion, Posted, DeletionMark` of bank and cash receipts dated in
   the window and diff against the SyncTable manifests; read each changed (or vanished) document to
   learn which orders its breakdown points at, now and before.
2. Orders: list `Ref_Key, DataVersion` of customer orders in the window; a changed order (state,
   sum) is affected when a deal is linked to it. A linked order that leaves the window while still
   open (not in a `closed_states` state, not marked) moves to the open-orders manifest and stays
   watched there, by its refs (an `or` of `Ref_Key eq`), however old it is; on the first run the
   orders already older than the window are looked through once for linked open ones.
3. Recompute each affected order (`recompute.recompute_order`).
4. Advance the manifests last, and only for what was fully handled: a document whose order failed
   (1C or Bitrix24 down, another run holding the order) stays as it was, so the next run retries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.errors import PermanentError
from bridge.notices import tell_once
from bridge.observability import correlated, logger, metrics
from bridge.payments import onec_reads
from bridge.payments.manifest import (
    OPEN_ORDERS_MANIFEST,
    OPEN_ORDERS_SEEDED,
    ORDERS_MANIFEST,
    PAYMENTS_MANIFEST,
    DocVersion,
    OrderEntry,
    PaymentEntry,
    diff_payments,
    gone,
    orders_to_check,
)
from bridge.payments.models import PaymentDoc
from bridge.payments.recompute import OrderOutcome, PaymentsContext, recompute_order
from bridge.payments.resolved import ResolvedPayments
from bridge.store.models import OneCRef


@dataclass
class PollReport:
    window_start: str = ""
    payments_changed: int = 0
    orders_changed: int = 0
    outcomes: list[OrderOutcome] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "window_start": self.window_start,
            "payments_changed": self.payments_changed,
            "orders_changed": self.orders_changed,
            "orders_recomputed": [o.order_ref for o in self.outcomes],
            "deals_written": sorted({o.deal_id for o in self.outcomes if o.written and o.deal_id}),
            "notified": sum(len(o.notified) for o in self.outcomes),
            "failed": self.failed,
            "skipped": self.skipped,
        }


def window_start(now: float, days: int, utc_offset_hours: int) -> datetime:
    local = datetime.fromtimestamp(now, UTC) + timedelta(hours=utc_offset_hours)
    start = local.replace(tzinfo=None) - timedelta(days=days)
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class _PaymentChanges:
    """Per manifest: the new values, the removals, and the orders each document touches."""

    updates: dict[str, dict[str, str]] = field(default_factory=dict)
    removals: dict[str, list[str]] = field(default_factory=dict)
    orders_of: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)


def _entry(doc: PaymentDoc) -> PaymentEntry:
    return PaymentEntry(
        DocVersion(doc.data_version, doc.posted, doc.deletion_mark), tuple(doc.amounts_by_order)
    )


def _scan_payments(ctx: PaymentsContext, since: datetime) -> _PaymentChanges:
    onec, links = ctx.ports.onec, ctx.ports.store
    changes = _PaymentChanges()
    for entity_set, name in PAYMENTS_MANIFEST.items():
        current = onec_reads.payment_versions(onec, entity_set, since, ctx.options.manifest_page_size)
        stored = links.manifests.get(name)
        diff = diff_payments(current, stored)
        updates: dict[str, str] = {}
        removals: list[str] = []
        for ref in (*diff.changed, *diff.vanished):
            before = PaymentEntry.decode(stored[ref]) if ref in stored else None
            doc = onec_reads.payment(onec, entity_set, ref)
            if doc is None or ref in diff.vanished:
                removals.append(ref)  # deleted, or dated out of the window
            else:
                updates[ref] = _entry(doc).encode()
            if doc is not None and before is not None and _entry(doc) == before:
                continue  # only aged out of the window: nothing to recompute
            orders = set(before.orders if before else ()) | set(doc.amounts_by_order if doc else ())
            changes.orders_of[(name, ref)] = frozenset(orders)
        changes.updates[name] = updates
        changes.removals[name] = removals
    return changes


def _scan_orders(
    ctx: PaymentsContext, since: datetime, now: int, stored: dict[str, str]
) -> tuple[dict[str, str], list[str], set[str]]:
    """New manifest values of due orders, orders gone from the window, and the linked due orders."""
    links = ctx.ports.store
    current = onec_reads.order_versions(ctx.ports.onec, since, ctx.options.manifest_page_size)
    updates: dict[str, str] = {}
    linked: set[str] = set()
    for ref in orders_to_check(current, stored, now, ctx.options.unlinked_recheck_minutes * 60):
        if links.links.find_by_onec(OneCRef(entity_set=ORDER_SET, ref=ref)) is not None:
            linked.add(ref)
            updates[ref] = OrderEntry(current[ref]).encode()
            continue
        before = OrderEntry.decode(stored[ref]) if ref in stored else None
        since_seen = before.unlinked_since if before and before.unlinked_since is not None else now
        updates[ref] = OrderEntry(current[ref], since_seen).encode()
    return updates, list(gone(current, stored)), linked


@dataclass
class _OpenOrders:
    """Changes to the open-orders manifest and the orders it found changed."""

    updates: dict[str, str] = field(default_factory=dict)
    removals: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)


def _is_open(mark: onec_reads.OrderMark, closed: frozenset[str]) -> bool:
    return not mark.deletion_mark and (mark.state_ref is None or mark.state_ref not in closed)


def _linked(ctx: PaymentsContext, ref: str) -> bool:
    return ctx.ports.store.links.find_by_onec(OneCRef(entity_set=ORDER_SET, ref=ref)) is not None


def _scan_open_orders(
    ctx: PaymentsContext,
    since: datetime,
    resolved: ResolvedPayments,
    left_window: Iterable[str],
    window_stored: dict[str, str],
) -> _OpenOrders:
    """Keep watching linked open orders older than the window (sum and state changes)."""
    onec, options = ctx.ports.onec, ctx.options
    closed = frozenset(resolved.closed_states)
    stored = ctx.ports.store.manifests.get(OPEN_ORDERS_MANIFEST)
    result = _OpenOrders()
    watched = {ref: version for ref, version in stored.items() if ref != OPEN_ORDERS_SEEDED}
    if OPEN_ORDERS_SEEDED not in stored:
        # Once: orders that were already older than the window when the flow started.
        for ref, old in onec_reads.orders_before(onec, since, options.manifest_page_size).items():
            if ref not in watched and _is_open(old, closed) and _linked(ctx, ref):
                result.updates[ref] = old.data_version
        result.updates[OPEN_ORDERS_SEEDED] = str(int(ctx.clock()))
    newcomers = [ref for ref in left_window if ref not in watched and _linked(ctx, ref)]
    if watched or newcomers:
        refs = sorted({*watched, *newcomers})
        marks = onec_reads.order_marks(onec, refs, options.open_orders_chunk)
        for ref in refs:
            mark = marks.get(ref)
            if mark is None:  # deleted in 1C
                if ref in watched:
                    result.removals.append(ref)
                continue
            before = watched.get(ref)
            if before is None and ref in window_stored:
                before = OrderEntry.decode(window_stored[ref]).data_version
            if before is not None and before != mark.data_version:
                result.changed.add(ref)
            if _is_open(mark, closed):
                if watched.get(ref) != mark.data_version:  # an idle run writes nothing
                    result.updates[ref] = mark.data_version
            elif ref in watched:
                result.removals.append(ref)
                logger.info("payments: older order closed, no longer watched", extra={"order": ref})
    return result


def _recompute_all(
    ctx: PaymentsContext, orders: Iterable[str], resolved: ResolvedPayments, report: PollReport
) -> set[str]:
    """Recompute each order; returns the orders that must be retried."""
    retry: set[str] = set()
    for order_ref in sorted(set(orders)):
        with correlated(order_ref):
            try:
                report.outcomes.append(recompute_order(ctx, order_ref, resolved))
            except PermanentError as error:
                # Retrying cannot help (bad data or mapping); a person reads the audit record.
                report.failed[order_ref] = str(error)
                ctx.ports.store.audit.record(
                    "payments", f"ORDER-{order_ref}", "failed", {"error": str(error)}
                )
                _tell_the_deal(ctx, order_ref, error)
                logger.error(
                    "payments: order failed permanently", extra={"order": order_ref, "error": str(error)}
                )
            except Exception as error:  # one order's trouble must not stop the others
                report.failed[order_ref] = str(error)
                retry.add(order_ref)
                logger.warning(
                    "payments: order will be retried", extra={"order": order_ref, "error": str(error)}
                )
    return retry


def failure_text(error: PermanentError) -> str:
    return (
        f"Оплаты и состояние заказа из 1С не перенесены в сделку: {error}. "
        "Исправьте причину в 1С или в настройках; заказ синхронизируется при следующем изменении."
    )


def _tell_the_deal(ctx: PaymentsContext, order_ref: str, error: PermanentError) -> None:
    """A comment on the order's deal, once per distinct problem; an unlinked order has no deal."""
    try:
        link = ctx.ports.store.links.find_by_onec(OneCRef(entity_set=ORDER_SET, ref=order_ref))
        if link is None or link.b24.entity != "DEAL":
            logger.warning("payments: failed order has no deal to tell", extra={"order": order_ref})
            return
        tell_once(
            ctx.ports,
            "deal",
            int(link.b24.id),
            flow="payments",
            kind="PaymentSyncFailed",
            text=failure_text(error),
            detail={"order": order_ref, "error": str(error)},
            channel="payments",
        )
        metrics.add_metric(name="PaymentFailureNotices", unit=MetricUnit.Count, value=1)
    except Exception as failure:  # the audit item above stays; one order must not stop the run
        logger.warning("payments: could not tell the deal", extra={"order": order_ref, "error": str(failure)})


def poll(ctx: PaymentsContext) -> PollReport:
    options = ctx.options
    report = PollReport()
    if not options.enabled:
        report.skipped = "payments flow disabled in the mapping"
        return report
    resolved = ctx.resolved.load()
    now = int(ctx.clock())
    since = window_start(now, options.window_days, options.onec_utc_offset_hours)
    report.window_start = since.isoformat()

    payments = _scan_payments(ctx, since)
    window_stored = ctx.ports.store.manifests.get(ORDERS_MANIFEST)
    order_updates, orders_gone, changed_orders = _scan_orders(ctx, since, now, window_stored)
    open_orders = _scan_open_orders(ctx, since, resolved, orders_gone, window_stored)
    report.payments_changed = len(payments.orders_of)
    report.orders_changed = len(changed_orders) + len(open_orders.changed)
    affected = set(changed_orders) | open_orders.changed
    affected = affected.union(*payments.orders_of.values())
    retry = _recompute_all(ctx, affected, resolved, report)

    links = ctx.ports.store
    for name, updates in payments.updates.items():
        blocked = {
            ref
            for (manifest, ref), orders in payments.orders_of.items()
            if manifest == name and orders & retry
        }
        links.manifests.put_entries(
            name,
            {ref: value for ref, value in updates.items() if ref not in blocked},
            [ref for ref in payments.removals[name] if ref not in blocked],
        )
    links.manifests.put_entries(
        ORDERS_MANIFEST,
        {ref: value for ref, value in order_updates.items() if ref not in retry},
        [ref for ref in orders_gone if ref not in retry],
    )
    if open_orders.updates or open_orders.removals:
        links.manifests.put_entries(
            OPEN_ORDERS_MANIFEST,
            {ref: value for ref, value in open_orders.updates.items() if ref not in retry},
            [ref for ref in open_orders.removals if ref not in retry],
        )
    logger.info("payments: poll done", extra=report.as_dict())
    return report
