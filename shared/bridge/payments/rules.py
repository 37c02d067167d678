"""The payment rules, pure (mappings.md §2, spec §2.1.1.13–14, §2.6.3–2.6.6, §1.8.2).

- Total paid: Σ `СуммаПлатежа` of the order's breakdown rows over posted, unmarked customer receipts.
- Status: 0 → not paid; below the order sum → partially paid; at or above it → paid.
- Counted: every posted, unmarked receipt (bank, cash, card) with a breakdown row for the order,
  unless its operation kind is on the exclusion list; the others are reported as skipped.
- Type: where the latest payment carries 1C's advance sign (`ПризнакАванса`), a non-advance row
  means postpayment, an advance full payment when paid ≥ order sum, else prepayment. Without the
  sign: postpayment if the latest payment is dated after the first posted shipment for the order
  (setting); else full payment if paid ≥ order sum; else prepayment.
- Method: bank or card receipt → non-cash, cash receipt → cash, by the latest payment.
- Stage: forward only within the deal's own funnel; never out of WON/LOSE (semantics S/F).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.config.payments import PaymentFieldCodes, PaymentsMapping
from bridge.domain.stages import Stage, StageBook
from bridge.payments.models import (
    DealFacts,
    OrderFacts,
    PaymentDoc,
    PaymentStatus,
    PaymentSummary,
    PaymentType,
)

_CENT = Decimal("0.01")


def _chronological_key(payment: PaymentDoc) -> tuple[datetime, str, str]:
    return (payment.date or datetime.min, payment.number, payment.ref)


def status_for(paid: Decimal, order_sum: Decimal) -> PaymentStatus:
    if paid <= 0:
        return PaymentStatus.NOT_PAID
    if paid < order_sum:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.PAID


def type_for(
    paid: Decimal,
    order_sum: Decimal,
    last_payment_date: datetime | None,
    first_shipment: datetime | None,
    *,
    postpayment_after_shipment: bool,
    advance: bool | None = None,
) -> PaymentType | None:
    """`advance`: 1C's own sign on the latest payment's rows for the order (None = not carried)."""
    if paid <= 0:
        return None
    if advance is False:
        return PaymentType.POSTPAYMENT
    if advance is None and (
        postpayment_after_shipment
        and first_shipment is not None
        and last_payment_date is not None
        and last_payment_date > first_shipment
    ):
        return PaymentType.POSTPAYMENT
    if order_sum > 0 and paid >= order_sum:
        return PaymentType.FULL_PAYMENT
    return PaymentType.PREPAYMENT


def summarize(
    order: OrderFacts,
    payments: Iterable[PaymentDoc],
    first_shipment: datetime | None,
    options: PaymentsMapping,
) -> PaymentSummary:
    unique = {p.ref: p for p in payments}
    excluded = options.excluded_operations
    reasons = {ref: p.skip_reason(order.ref, excluded) for ref, p in unique.items()}
    counted = tuple(sorted((p for p in unique.values() if reasons[p.ref] is None), key=_chronological_key))
    skipped = tuple(
        (p, reason)
        for p in sorted(unique.values(), key=_chronological_key)
        if (reason := reasons[p.ref]) is not None and order.ref in p.amounts_by_order and p.posted
    )
    paid = sum((p.amounts_by_order[order.ref] for p in counted), Decimal(0))
    last = counted[-1] if counted else None
    method = last.kind.method if last is not None else None
    advance = last.advance_by_order.get(order.ref) if last is not None and options.use_advance_sign else None
    return PaymentSummary(
        order=order,
        paid=paid,
        status=status_for(paid, order.amount),
        last_payment=last,
        payment_type=type_for(
            paid,
            order.amount,
            last.date if last else None,
            first_shipment,
            postpayment_after_shipment=options.postpayment_after_shipment,
            advance=advance,
        ),
        method=method,
        comment=(last.comment or last.purpose) if last else "",
        counted=counted,
        skipped=skipped,
    )


def money_value(amount: Decimal, currency: str) -> str:
    """Bitrix24 money field value: `"1250.00|RUB"`."""
    return f"{amount.quantize(_CENT)}|{currency}"


def mapped_fields(
    summary: PaymentSummary,
    codes: PaymentFieldCodes,
    enum_ids: Mapping[str, Mapping[str, str]],
    currency: str,
) -> dict[str, Any]:
    """Deal user-field values. Amounts and status always; the latest payment's date, type, method
    and comment only while a payment exists (an empty source never overwrites, architecture §3.5)."""
    fields: dict[str, Any] = {
        codes.paid: money_value(summary.paid, currency),
        codes.order_sum: money_value(summary.order.amount, currency),
        codes.pay_status: enum_ids["pay_status"][summary.status.value],
    }
    last = summary.last_payment
    if last is not None:
        if last.date is not None:
            fields[codes.pay_date] = last.date.date().isoformat()
        if summary.payment_type is not None:
            fields[codes.pay_type] = enum_ids["pay_type"][summary.payment_type.value]
        if summary.method is not None:
            fields[codes.pay_method] = enum_ids["pay_method"][summary.method.value]
        if summary.comment:
            fields[codes.pay_comment] = summary.comment
    return fields


def moves_stage_on_payment(summary: PaymentSummary, options: PaymentsMapping) -> bool:
    if summary.status is PaymentStatus.PAID:
        return True
    return summary.status is PaymentStatus.PARTIALLY_PAID and options.partial_payment_moves_stage


def forward_target(deal: DealFacts, candidates: Iterable[str | None], book: StageBook) -> Stage | None:
    """The furthest candidate stage the deal may move to, or None.

    A deal in a final stage (WON/LOSE, semantics S/F) stays; a candidate from another funnel is
    ignored; only a stage sorted after the current one counts (never backwards)."""
    current = book.stage(deal.stage_id)
    if current is None or current.semantics != "P" or current.category_id != deal.category_id:
        return None
    best: Stage | None = None
    for status_id in candidates:
        stage = book.stage(status_id) if status_id else None
        if stage is None or stage.category_id != deal.category_id or stage.sort <= current.sort:
            continue
        if best is None or stage.sort > best.sort:
            best = stage
    return best
