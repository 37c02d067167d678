"""What the payments flow reads from 1C, as few and as small requests as the wire allows.

Manifests select only `Ref_Key, DataVersion, Posted, DeletionMark` in the date window. The operation
kind (`ВидОперации`) is checked here, not in `$filter`: enum comparisons are cheap on a real base,
but the rule, and the audit of what it skips, stay in one place (`PaymentDoc.skip_reason`).

Receipts come in three sets: bank and cash (breakdown `Заказ` + `Заказ_Type`, composite) and
payment-card operations (`Заказ_Key`, single-typed: fidelity notes §5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.domain.onec_sets import CARD_OPERATIONS as CARD_SET
from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.domain.onec_sets import SHIPMENTS as SHIPMENT_SET
from bridge.onec.client import ODataClient
from bridge.onec.errors import NotFound
from bridge.onec.odata import (
    Filter,
    any_of,
    any_row,
    cast_ref,
    eq,
    ge,
    guid,
    lt,
    normalize_ref,
    parse_datetime,
)
from bridge.payments.manifest import DocVersion
from bridge.payments.models import OrderFacts, PaymentDoc

_MANIFEST_FIELDS = ("Ref_Key", "DataVersion", "Posted", "DeletionMark")
_PAYMENT_FIELDS = (
    "Ref_Key",
    "DataVersion",
    "Number",
    "Date",
    "Posted",
    "DeletionMark",
    "ВидОперации",
    "Комментарий",
    "НазначениеПлатежа",
    "РасшифровкаПлатежа",
)
_CASH_PAYMENT_FIELDS = tuple(f if f != "НазначениеПлатежа" else "Основание" for f in _PAYMENT_FIELDS)
_CARD_PAYMENT_FIELDS = tuple(f for f in _PAYMENT_FIELDS if f != "НазначениеПлатежа")
_ORDER_FIELDS = ("Ref_Key", "Number", "Date", "СуммаДокумента", "СостояниеЗаказа")
_OPEN_ORDER_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark", "СостояниеЗаказа")


def payment_fields(entity_set: str) -> tuple[str, ...]:
    if entity_set == CARD_SET:
        return _CARD_PAYMENT_FIELDS
    return _CASH_PAYMENT_FIELDS if entity_set.endswith("ВКассу") else _PAYMENT_FIELDS


def payment_versions(
    onec: ODataClient, entity_set: str, since: datetime, page_size: int
) -> dict[str, DocVersion]:
    return {
        normalize_ref(row["Ref_Key"]): DocVersion(
            str(row.get("DataVersion") or ""), bool(row.get("Posted")), bool(row.get("DeletionMark"))
        )
        for row in onec.iter_all(
            entity_set, filter=ge("Date", since), select=_MANIFEST_FIELDS, page_size=page_size
        )
    }


def order_versions(onec: ODataClient, since: datetime, page_size: int) -> dict[str, str]:
    return {
        normalize_ref(row["Ref_Key"]): str(row.get("DataVersion") or "")
        for row in onec.iter_all(
            ORDER_SET, filter=ge("Date", since), select=("Ref_Key", "DataVersion"), page_size=page_size
        )
    }


def payment(onec: ODataClient, entity_set: str, ref: str) -> PaymentDoc | None:
    """The payment as it is now; None when it no longer exists."""
    try:
        entity = onec.get(entity_set, ref, select=payment_fields(entity_set))
    except NotFound:
        return None
    return PaymentDoc.from_onec(entity_set, entity)


def order(onec: ODataClient, ref: str) -> OrderFacts | None:
    try:
        return OrderFacts.from_onec(onec.get(ORDER_SET, ref, select=_ORDER_FIELDS))
    except NotFound:
        return None


def _order_row(entity_set: str, order_ref: str) -> Filter:
    if entity_set == CARD_SET:
        return any_row("РасшифровкаПлатежа", Filter(f"d/Заказ_Key eq {guid(order_ref)}"))
    return any_row("РасшифровкаПлатежа", Filter(f"d/Заказ eq {cast_ref(order_ref, ORDER_SET)}"))


def payments_for_order(onec: ODataClient, entity_set: str, order_ref: str) -> list[PaymentDoc]:
    """Posted documents of the set with a breakdown row for the order (any date)."""
    rows = onec.iter_all(
        entity_set,
        filter=eq("Posted", True) & _order_row(entity_set, order_ref),
        select=payment_fields(entity_set),
    )
    return [PaymentDoc.from_onec(entity_set, row) for row in rows]


def first_shipment(onec: ODataClient, order_ref: str) -> datetime | None:
    rows = onec.list(
        SHIPMENT_SET,
        filter=eq("Posted", True) & Filter(f"Заказ eq {cast_ref(order_ref, ORDER_SET)}"),
        select=("Ref_Key", "Date"),
        orderby="Date",
        top=1,
    )
    return parse_datetime(rows[0].get("Date")) if rows else None


@dataclass(frozen=True, slots=True)
class OrderMark:
    """What the open-orders check needs of an order: its version and whether it is still open."""

    data_version: str
    deletion_mark: bool
    state_ref: str | None


def order_marks(onec: ODataClient, refs: Sequence[str], chunk: int) -> dict[str, OrderMark]:
    """Version, mark and state of the given orders, `chunk` refs per request (an `or` of
    `Ref_Key eq guid'…'`); an order missing from the answer no longer exists."""
    found: dict[str, OrderMark] = {}
    for start in range(0, len(refs), chunk):
        part = refs[start : start + chunk]
        condition = any_of(*(eq("Ref_Key", guid(ref)) for ref in part))
        for row in onec.iter_all(ORDER_SET, filter=condition, select=_OPEN_ORDER_FIELDS):
            state = row.get("СостояниеЗаказа")
            found[normalize_ref(row["Ref_Key"])] = OrderMark(
                str(row.get("DataVersion") or ""),
                bool(row.get("DeletionMark")),
                normalize_ref(state) if state else None,
            )
    return found


def orders_before(onec: ODataClient, before: datetime, page_size: int) -> dict[str, OrderMark]:
    """Every order dated before the window (once: to find the linked open ones to watch)."""
    return {
        normalize_ref(row["Ref_Key"]): OrderMark(
            str(row.get("DataVersion") or ""),
            bool(row.get("DeletionMark")),
            normalize_ref(row["СостояниеЗаказа"]) if row.get("СостояниеЗаказа") else None,
        )
        for row in onec.iter_all(
            ORDER_SET,
            filter=lt("Date", before),
            select=_OPEN_ORDER_FIELDS,
            page_size=page_size,
        )
    }
