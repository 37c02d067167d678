"""One order: recompute its payment state from 1C and bring the linked deal up to date.

State, not deltas (architecture §3.1): whatever triggered it (poll, push, retry), the order's posted
payments are re-read and the deal gets the mapped result. Bitrix24 writes for the deal go in one
`batch`: the field update (with the stage when it moves), one notification per new or withdrawn
payment, one registry entry per new payment. What succeeded is remembered under the order's lease,
so a retry repeats only what failed and a payment is announced once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.b24.errors import B24Error
from bridge.b24.errors import NotFound as DealNotFound
from bridge.b24.models import BatchResult
from bridge.config.payments import PaymentFieldCodes, PaymentsMapping
from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.observability import logger
from bridge.payments import onec_reads, rules
from bridge.payments.models import (
    PAYMENT_SETS,
    AnnouncedPayment,
    DealFacts,
    OrderFacts,
    PaymentSummary,
)
from bridge.payments.plan import DEAL_KEY, CommandKey, CommandKind, PaymentsPlan, plan_writes
from bridge.payments.resolved import ResolvedPayments
from bridge.payments.state import OrderSyncState
from bridge.ports import Ports
from bridge.store.models import OneCRef
from bridge.store.resolved import ResolvedConfig

_ALREADY_REGISTERED = "ERROR_ELEMENT_ALREADY_EXISTS"


@dataclass(frozen=True)
class PaymentsContext:
    ports: Ports
    options: PaymentsMapping
    resolved: ResolvedConfig[ResolvedPayments]
    portal_url: str
    codes: PaymentFieldCodes = field(default_factory=PaymentFieldCodes.of)
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class OrderOutcome:
    order_ref: str
    deal_id: int | None
    note: str
    written: tuple[str, ...] = ()  # batch command keys that succeeded
    stage: str | None = None
    notified: tuple[str, ...] = ()
    registered: tuple[str, ...] = ()


def recompute_order(ctx: PaymentsContext, order_ref: str, resolved: ResolvedPayments) -> OrderOutcome:
    link = ctx.ports.store.links.find_by_onec(OneCRef(entity_set=ORDER_SET, ref=order_ref))
    if link is None or link.b24.entity != "DEAL":
        logger.info("payments: order not linked to a deal, nothing to write", extra={"order": order_ref})
        return OrderOutcome(order_ref, None, "not linked to a deal")
    deal_id = int(link.b24.id)
    with ctx.ports.store.leases.hold(order_ref, ctx.options.lease_seconds) as lease:
        outcome, state, failure = _sync(
            ctx, resolved, order_ref, deal_id, OrderSyncState.from_json(lease.state)
        )
        lease.save(state.to_json())
    if failure is not None:
        raise failure
    return outcome


def _read_summary(ctx: PaymentsContext, order: OrderFacts) -> PaymentSummary:
    onec = ctx.ports.onec
    payments = [
        p for entity_set in PAYMENT_SETS for p in onec_reads.payments_for_order(onec, entity_set, order.ref)
    ]
    shipped = onec_reads.first_shipment(onec, order.ref) if ctx.options.postpayment_after_shipment else None
    return rules.summarize(order, payments, shipped, ctx.options)


def _sync(
    ctx: PaymentsContext, resolved: ResolvedPayments, order_ref: str, deal_id: int, state: OrderSyncState
) -> tuple[OrderOutcome, OrderSyncState, B24Error | None]:
    order = onec_reads.order(ctx.ports.onec, order_ref)
    if order is None:
        return OrderOutcome(order_ref, deal_id, "order no longer exists in 1C"), state, None
    summary = _read_summary(ctx, order)
    state = _audit_skipped(ctx, summary, deal_id, state)
    try:
        deal = DealFacts.from_b24(ctx.ports.b24.call("crm.deal.get", {"id": deal_id}).result)
    except DealNotFound:
        return OrderOutcome(order_ref, deal_id, "deal no longer exists in Bitrix24"), state, None
    plan = plan_writes(
        summary,
        deal,
        state,
        resolved,
        ctx.options,
        codes=ctx.codes,
        portal_url=ctx.portal_url,
        deal_mapping=ctx.ports.mapping.deal,
    )
    _leave_remarks(ctx, plan)
    batch = {key.wire: command for key, command in plan.commands.items()}
    answer = ctx.ports.b24.batch(batch, halt=False) if batch else BatchResult()
    failed = {key: error for key, error in answer.errors.items() if error.code != _ALREADY_REGISTERED}
    answered = set(answer.result) | (set(answer.errors) - set(failed))
    done = {key for key in plan.commands if key.wire in answered}

    def finished(key: CommandKey) -> bool:
        return key in done or not plan.sent(key)  # what was not asked for needed no asking

    deal_written = finished(DEAL_KEY)
    announced = dict(state.announced)
    notified: list[str] = []
    for payment in plan.new_payments:
        if finished(CommandKey(CommandKind.NOTIFY, payment.ref)):
            announced[payment.ref] = AnnouncedPayment.of(payment, summary.amount_of(payment))
            notified.append(payment.ref)
    for gone in plan.withdrawn:
        if finished(CommandKey(CommandKind.WITHDRAWN, gone.ref)):
            announced.pop(gone.ref, None)
    registered = [p.ref for p in plan.to_register if CommandKey(CommandKind.REGISTRY, p.ref) in done]
    listed = dict(state.listed)
    for key, element in plan.list_writes.items():
        if key in done:
            listed[key.payment] = element
    new_state = state.evolve(
        announced=announced,
        registered=state.registered | frozenset(registered),
        listed=listed,
        fields_fingerprint=plan.fields_fingerprint if deal_written else state.fields_fingerprint,
        last_state=order.state_ref if deal_written else state.last_state,
    )
    if not plan.commands:
        return OrderOutcome(order_ref, deal_id, "up to date"), new_state, None
    written = sorted(key.wire for key in done)
    ctx.ports.store.audit.record(
        "payments",
        f"DEAL-{deal_id}",
        "failed" if failed else "written",
        {"order": order_ref, "written": written, "failed": sorted(failed), "stage": plan.stage},
    )
    outcome = OrderOutcome(
        order_ref,
        deal_id,
        "partly written" if failed else "written",
        written=tuple(written),
        stage=plan.stage if deal_written else None,
        notified=tuple(notified),
        registered=tuple(registered),
    )
    logger.info(
        "payments: deal updated",
        extra={"order": order_ref, "deal": deal_id, "written": written, "failed": sorted(failed)},
    )
    return outcome, new_state, next(iter(failed.values()), None)


def _leave_remarks(ctx: PaymentsContext, plan: PaymentsPlan) -> None:
    for remark in plan.remarks:
        if remark.warning:
            logger.warning(remark.message, extra=remark.extra)
        else:
            logger.info(remark.message, extra=remark.extra)
        if remark.audit is not None:
            ctx.ports.store.audit.record("payments", f"DEAL-{plan.deal_id}", remark.audit, remark.detail)


def _audit_skipped(
    ctx: PaymentsContext, summary: PaymentSummary, deal_id: int, state: OrderSyncState
) -> OrderSyncState:
    """Nothing dropped silently: a posted receipt for the order that does not count leaves a log
    line and an audit item with the reason (once per receipt and reason)."""
    current = {payment.ref: reason for payment, reason in summary.skipped}
    for payment, reason in summary.skipped:
        if state.skipped.get(payment.ref) == reason:
            continue
        detail = {
            "order": summary.order.ref,
            "order_number": summary.order.number,
            "deal": deal_id,
            "payment_number": payment.number,
            "kind": payment.kind.value,
            "operation": payment.operation,
            "amount": str(summary.amount_of(payment)),
            "reason": reason,
        }
        logger.warning("payments: receipt not counted", extra={"payment": payment.ref, **detail})
        ctx.ports.store.audit.record("payments", f"PAYMENT-{payment.ref}", "skipped", detail)
    return state.evolve(skipped=current)
