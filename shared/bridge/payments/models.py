"""Domain models of the payments flow, parsed from 1C answers and Bitrix24 deals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bridge.domain.onec_sets import BANK_RECEIPTS as BANK_SET
from bridge.domain.onec_sets import CARD_OPERATIONS as CARD_SET
from bridge.domain.onec_sets import CASH_RECEIPTS as CASH_SET
from bridge.onec.odata import normalize_ref, parse_datetime

ORDER_TYPE = "StandardODATA.Document_ЗаказПокупателя"
PAYMENT_SETS = (BANK_SET, CASH_SET, CARD_SET)


class PaymentType(StrEnum):
    PREPAYMENT = "prepayment"
    FULL_PAYMENT = "full_payment"
    POSTPAYMENT = "postpayment"


class PaymentMethod(StrEnum):
    NON_CASH = "non_cash"
    CASH = "cash"


class PaymentKind(StrEnum):
    BANK = "bank"
    CASH = "cash"
    CARD = "card"

    @property
    def method(self) -> PaymentMethod:
        """A cash receipt is cash; bank and card receipts are non-cash (mappings.md §2)."""
        return PaymentMethod.CASH if self is PaymentKind.CASH else PaymentMethod.NON_CASH


class PaymentStatus(StrEnum):
    NOT_PAID = "not_paid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"


KIND_BY_SET = {BANK_SET: PaymentKind.BANK, CASH_SET: PaymentKind.CASH, CARD_SET: PaymentKind.CARD}


def money(value: Any) -> Decimal:
    """1C Edm.Double (a JSON number) → Decimal without binary noise."""
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def _row_order(row: Mapping[str, Any]) -> str | None:
    """The customer order a breakdown row pays: composite `Заказ` + `Заказ_Type` on bank and cash
    receipts, single-typed `Заказ_Key` on the card document (fidelity notes §5)."""
    single = row.get("Заказ_Key")
    if single and normalize_ref(single) != _EMPTY_REF:
        return normalize_ref(single)
    order = row.get("Заказ")
    if row.get("Заказ_Type") == ORDER_TYPE and order and normalize_ref(order) != _EMPTY_REF:
        return normalize_ref(order)
    return None


_EMPTY_REF = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class PaymentDoc:
    """One bank, cash or card receipt with the part of it that pays each customer order."""

    ref: str
    kind: PaymentKind
    number: str
    date: datetime | None
    posted: bool
    deletion_mark: bool
    operation: str
    comment: str
    purpose: str
    amounts_by_order: Mapping[str, Decimal] = field(default_factory=dict)
    data_version: str = ""
    # 1C's own advance sign (`ПризнакАванса`) of the rows for each order, where the rows carry it:
    # False when any row for the order settles a debt (a payment after the goods), else True.
    advance_by_order: Mapping[str, bool] = field(default_factory=dict)

    @classmethod
    def from_onec(cls, entity_set: str, entity: Mapping[str, Any]) -> PaymentDoc:
        amounts: dict[str, Decimal] = {}
        advance: dict[str, bool] = {}
        for row in entity.get("РасшифровкаПлатежа") or []:
            key = _row_order(row)
            if key is None:
                continue
            amounts[key] = amounts.get(key, Decimal(0)) + money(row.get("СуммаПлатежа"))
            sign = row.get("ПризнакАванса")
            if isinstance(sign, bool):
                advance[key] = advance.get(key, True) and sign
        return cls(
            ref=normalize_ref(entity["Ref_Key"]),
            kind=KIND_BY_SET[entity_set],
            number=str(entity.get("Number") or "").strip(),
            date=parse_datetime(entity.get("Date")),
            posted=bool(entity.get("Posted")),
            deletion_mark=bool(entity.get("DeletionMark")),
            operation=str(entity.get("ВидОперации") or ""),
            comment=str(entity.get("Комментарий") or "").strip(),
            purpose=str(entity.get("НазначениеПлатежа") or entity.get("Основание") or "").strip(),
            amounts_by_order=amounts,
            data_version=str(entity.get("DataVersion") or ""),
            advance_by_order=advance,
        )

    def skip_reason(self, order_ref: str, excluded: tuple[str, ...]) -> str | None:
        """Why this receipt does not count towards the order, or None when it counts: every
        posted, unmarked receipt with a breakdown row for the order counts, unless its operation
        kind is on the exclusion list (refunds and the like)."""
        if order_ref not in self.amounts_by_order:
            return "no breakdown row for the order"
        if not self.posted:
            return "not posted"
        if self.deletion_mark:
            return "marked for deletion"
        if self.operation in excluded:
            return f"operation kind {self.operation} is excluded ([payments] excluded_operations)"
        return None

    def counts_for(self, order_ref: str, excluded: tuple[str, ...]) -> bool:
        return self.skip_reason(order_ref, excluded) is None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    ref: str
    number: str
    date: datetime | None
    amount: Decimal
    state_ref: str | None

    @classmethod
    def from_onec(cls, entity: Mapping[str, Any]) -> OrderFacts:
        state = entity.get("СостояниеЗаказа")
        return cls(
            ref=normalize_ref(entity["Ref_Key"]),
            number=str(entity.get("Number") or "").strip(),
            date=parse_datetime(entity.get("Date")),
            amount=money(entity.get("СуммаДокумента")),
            state_ref=normalize_ref(state) if state else None,
        )


@dataclass(frozen=True, slots=True)
class DealFacts:
    """What the flow needs of the deal: where it stands and who is responsible."""

    id: int
    title: str
    category_id: int
    stage_id: str
    assigned_by_id: int | None

    @classmethod
    def from_b24(cls, deal: Mapping[str, Any]) -> DealFacts:
        assigned = str(deal.get("ASSIGNED_BY_ID") or "")
        return cls(
            id=int(deal["ID"]),
            title=str(deal.get("TITLE") or ""),
            category_id=int(deal.get("CATEGORY_ID") or 0),
            stage_id=str(deal.get("STAGE_ID") or ""),
            assigned_by_id=int(assigned) if assigned.isdigit() else None,
        )


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    """The order's payment state recomputed from 1C (mappings.md §2)."""

    order: OrderFacts
    paid: Decimal
    status: PaymentStatus
    last_payment: PaymentDoc | None
    payment_type: PaymentType | None
    method: PaymentMethod | None
    comment: str
    counted: tuple[PaymentDoc, ...]  # the payments that make up `paid`, oldest first
    # Posted receipts with a row for the order that do not count, with the reason (audited).
    skipped: tuple[tuple[PaymentDoc, str], ...] = ()

    def amount_of(self, payment: PaymentDoc) -> Decimal:
        return payment.amounts_by_order.get(self.order.ref, Decimal(0))


@dataclass(frozen=True, slots=True)
class AnnouncedPayment:
    """A payment the manager was told about; kept so its withdrawal can be told too."""

    ref: str
    number: str
    date: str  # as shown to the manager (dd.mm.yyyy)
    amount: Decimal

    @classmethod
    def of(cls, payment: PaymentDoc, amount: Decimal) -> AnnouncedPayment:
        shown = payment.date.strftime("%d.%m.%Y") if payment.date else "—"
        return cls(ref=payment.ref, number=payment.number, date=shown, amount=amount)

    def to_json(self) -> dict[str, str]:
        return {"ref": self.ref, "number": self.number, "date": self.date, "amount": str(self.amount)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnnouncedPayment:
        return cls(
            ref=str(data["ref"]),
            number=str(data.get("number", "")),
            date=str(data.get("date", "")),
            amount=Decimal(str(data.get("amount", "0"))),
        )
