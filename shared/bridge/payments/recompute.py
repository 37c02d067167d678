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
from typing import Any

from bridge.b24.batching import CommandLike
from bridge.b24.errors import B24Error
from bridge.b24.errors import NotFound as DealNotFound
from bridge.b24.models import BatchResult
from bridge.deps import Ports
from bridge.domain.fingerprint import fingerprint
from bridge.observability import logger
from bridge.payments import onec_reads, rules, text
from bridge.payments import registry as registry_list
from bridge.payments.config import PaymentFieldCodes, PaymentsMapping
from bridge.payments.models import (
    ORDER_SET,
    PAYMENT_SETS,
    AnnouncedPayment,
    DealFacts,
    OrderFacts,
    PaymentDoc,
    PaymentSummary,
)
from bridge.payments.resolved import ResolvedPayments
from bridge.payments.state import OrderSyncState
from bridge.store.models import OneCRef
from bridge.store.resolved import ResolvedConfig

_ALREADY_REGISTERED = "ERROR_ELEMENT_ALREADY_EXISTS"


@dataclass(frozen=True)
class PaymentsContext:
    ports: Ports
    options: PaymentsMapping
    resolved: ResolvedConfig[ResolvedPayments]
    portal_url: str
    codes: PaymentFieldCodes = field(default_factory=PaymentFieldCodes)
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


@dataclass
class _Plan:
    commands: dict[str, CommandLike] = field(default_factory=dict)
    fields_fingerprint: str = ""
    stage: str | None = None
    new_payments: tuple[PaymentDoc, ...] = ()
    withdrawn: tuple[AnnouncedPayment, ...] = ()
    to_register: tuple[PaymentDoc, ...] = ()
    # Registry list elements written by this plan: command key → (payment ref, FIELDS).
    list_writes: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


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
    plan = _plan(ctx, resolved, summary, deal, state)
    answer = ctx.ports.b24.batch(plan.commands, halt=False) if plan.commands else BatchResult()
    succeeded = set(answer.result)
    failed = {key: error for key, error in answer.errors.items() if error.code != _ALREADY_REGISTERED}
    done = succeeded | (set(answer.errors) - set(failed))
    deal_written = "deal" not in plan.commands or "deal" in done
    announced = dict(state.announced)
    notified: list[str] = []
    for payment in plan.new_payments:
        if f"notify:{payment.ref}" in done or f"notify:{payment.ref}" not in plan.commands:
            announced[payment.ref] = AnnouncedPayment.of(payment, summary.amount_of(payment))
            notified.append(payment.ref)
    for gone in plan.withdrawn:
        if f"withdrawn:{gone.ref}" in done or f"withdrawn:{gone.ref}" not in plan.commands:
            announced.pop(gone.ref, None)
    registered = [p.ref for p in plan.to_register if f"registry:{p.ref}" in done]
    listed = dict(state.listed)
    for key, (ref, written) in plan.list_writes.items():
        if key in done:
            listed[ref] = written
    new_state = state.evolve(
        announced=announced,
        registered=state.registered | frozenset(registered),
        listed=listed,
        fields_fingerprint=plan.fields_fingerprint if deal_written else state.fields_fingerprint,
        last_state=order.state_ref if deal_written else state.last_state,
    )
    if not plan.commands:
        return OrderOutcome(order_ref, deal_id, "up to date"), new_state, None
    ctx.ports.store.audit.record(
        "payments",
        f"DEAL-{deal_id}",
        "failed" if failed else "written",
        {"order": order_ref, "written": sorted(done), "failed": sorted(failed), "stage": plan.stage},
    )
    outcome = OrderOutcome(
        order_ref,
        deal_id,
        "partly written" if failed else "written",
        written=tuple(sorted(done)),
        stage=plan.stage if deal_written else None,
        notified=tuple(notified),
        registered=tuple(registered),
    )
    logger.info(
        "payments: deal updated",
        extra={"order": order_ref, "deal": deal_id, "written": sorted(done), "failed": sorted(failed)},
    )
    return outcome, new_state, next(iter(failed.values()), None)


def _plan(
    ctx: PaymentsContext,
    resolved: ResolvedPayments,
    summary: PaymentSummary,
    deal: DealFacts,
    state: OrderSyncState,
) -> _Plan:
    options = ctx.options
    fields = rules.mapped_fields(summary, ctx.codes, resolved.enum_ids, options.currency)
    plan = _Plan(fields_fingerprint=fingerprint(fields))
    counted = {p.ref for p in summary.counted}
    plan.new_payments = tuple(p for p in summary.counted if p.ref not in state.announced)
    plan.withdrawn = tuple(a for ref, a in state.announced.items() if ref not in counted)
    plan.to_register = tuple(p for p in summary.counted if p.ref not in state.registered)

    candidates: list[str | None] = []
    if plan.new_payments and rules.moves_stage_on_payment(summary, options):
        candidates.append(resolved.feedback_stage.get(deal.category_id))
    order_state = summary.order.state_ref
    if order_state and order_state != state.last_state:
        mapped = resolved.state_stage.get(deal.category_id, {}).get(order_state)
        if mapped is not None and resolved.stages.no_exchange_after_order(
            deal.category_id, ctx.ports.mapping.deal
        ):
            # §2.2.8: after the order exists this funnel works without 1C (deal.no_exchange_…).
            logger.info("payments: order states do not move deals in this funnel", extra={"deal": deal.id})
            ctx.ports.store.audit.record(
                "payments", f"DEAL-{deal.id}", "StateNotApplied", {"state": order_state}
            )
            mapped = None
        elif mapped is None:
            logger.info(
                "payments: order state has no stage in this funnel",
                extra={
                    "state": resolved.state_names.get(order_state, order_state),
                    "funnel": deal.category_id,
                },
            )
        candidates.append(mapped)
    target = rules.forward_target(deal, candidates, resolved.stages)

    update: dict[str, Any] = {} if plan.fields_fingerprint == state.fields_fingerprint else dict(fields)
    if target is not None:
        update["STAGE_ID"] = target.status_id
        plan.stage = target.status_id
    if update:
        plan.commands["deal"] = ("crm.deal.update", {"id": deal.id, "fields": update})
    if options.notify and deal.assigned_by_id is not None:
        for payment in plan.new_payments:
            plan.commands[f"notify:{payment.ref}"] = _notice(
                ctx,
                deal,
                text.payment_tag(payment.ref),
                text.payment_message(summary, payment, deal, ctx.portal_url, options.currency),
            )
        for gone in plan.withdrawn:
            plan.commands[f"withdrawn:{gone.ref}"] = _notice(
                ctx,
                deal,
                text.withdrawal_tag(gone.ref),
                text.withdrawal_message(summary, gone, deal, ctx.portal_url, options.currency),
            )
    mode = options.registry.mode
    if mode == "bizproc":
        for payment in plan.to_register:
            plan.commands[f"registry:{payment.ref}"] = _bizproc_command(options, summary, payment, deal)
    elif mode == "list":
        _plan_list(ctx, resolved, summary, deal, state, plan)
    else:
        plan.to_register = ()
    return plan


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


def _list_target(ctx: PaymentsContext, resolved: ResolvedPayments) -> tuple[str, dict[str, str]] | None:
    """The registry list: one the customer configured, else the one setup made."""
    registry = ctx.options.registry
    if registry.list_iblock_id:
        return registry.list_iblock_id, dict(registry.list_fields)
    if resolved.registry_list_id:
        return resolved.registry_list_id, dict(resolved.registry_list_fields)
    return None


def _plan_list(
    ctx: PaymentsContext,
    resolved: ResolvedPayments,
    summary: PaymentSummary,
    deal: DealFacts,
    state: OrderSyncState,
    plan: _Plan,
) -> None:
    """One element per counted payment; an unposted one is rewritten as withdrawn, a payment posted
    again as standing (the element's code is the payment's Ref_Key: never a second element)."""
    registry = ctx.options.registry
    target = _list_target(ctx, resolved)
    if target is None:
        if plan.to_register:
            logger.warning(
                "payments: registry list not set up, payments wait for it (run setup)",
                extra={"order": summary.order.ref, "payments": [p.ref for p in plan.to_register]},
            )
        plan.to_register = ()
        return
    iblock_id, field_ids = target
    state_field = field_ids.get("state")

    def fields_of(payment: PaymentDoc, standing: str) -> dict[str, Any]:
        values = text.registry_values(summary, payment, ctx.options, deal.id)
        if payment.date is not None:
            values["date"] = payment.date.strftime(registry.list_date_format)
        name = text.registry_element_name(summary, payment)
        return registry_list.element_fields(name, values, field_ids, standing)

    def command(method: str, ref: str, fields: dict[str, Any]) -> CommandLike:
        return (
            method,
            {
                "IBLOCK_TYPE_ID": registry.list_iblock_type_id,
                "IBLOCK_ID": iblock_id,
                "ELEMENT_CODE": ref,  # unique per list: a repeat is refused, never duplicated
                "FIELDS": fields,
            },
        )

    for payment in plan.to_register:
        fields = fields_of(payment, registry.posted_text)
        key = f"registry:{payment.ref}"
        plan.commands[key] = command("lists.element.add", payment.ref, fields)
        plan.list_writes[key] = (payment.ref, fields)
    if state_field is None:
        return  # a customer's list without a state field: elements are added, never rewritten
    counted = {p.ref: p for p in summary.counted}
    for ref, written in state.listed.items():
        standing = written.get(state_field) != registry.withdrawn_text
        key = f"registry-update:{ref}"
        if ref not in counted and standing:
            fields = {**written, state_field: registry.withdrawn_text}
        elif ref in counted and not standing:
            fields = fields_of(counted[ref], registry.posted_text)
        else:
            continue
        plan.commands[key] = command("lists.element.update", ref, fields)
        plan.list_writes[key] = (ref, fields)


def _notice(ctx: PaymentsContext, deal: DealFacts, tag: str, message: str) -> CommandLike:
    return (
        "im.notify.system.add",
        {
            "USER_ID": deal.assigned_by_id,
            "MESSAGE": message,
            "TAG": tag,
            "CLIENT_ID": ctx.options.notify_client_id,
        },
    )


def _bizproc_command(
    options: PaymentsMapping, summary: PaymentSummary, payment: PaymentDoc, deal: DealFacts
) -> CommandLike:
    registry = options.registry
    values = text.registry_values(summary, payment, options, deal.id)
    parameters = {name: values[key] for key, name in registry.bizproc_parameters.items() if key in values}
    return (
        "bizproc.workflow.start",
        {
            "TEMPLATE_ID": registry.bizproc_template_id,
            "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{deal.id}"],
            "PARAMETERS": parameters,
        },
    )
