"""Deal snapshot → the exact `Document_ЗаказПокупателя` OData bodies (mappings.md §1).

Pure and deterministic: the same snapshot and references always give the same body and the same
fingerprint input, so replaying an event writes nothing new (sync principle 4). The body splits in
two: `body` is what a POST creates; `mapped` is the subset Bitrix24 owns and keeps up to date
(the order state, operation kind and the deal-id key are set once, then belong to 1C). Updates send
only what changed and is non-empty (§2.2.12.11).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from bridge.deals.config import OrderConfig
from bridge.deals.decisions import OrderOutcome
from bridge.deals.models import Deal, ProductRow
from bridge.deals.snapshot import DealSnapshot
from bridge.domain.counterparty import EMPTY_GUID
from bridge.domain.text import strip_markup
from bridge.errors import ConfigurationError, PermanentError

ORDER_TYPE = "StandardODATA.Document_ЗаказПокупателя"
ORDER_STATE_TYPE = "StandardODATA.Catalog_СостоянияЗаказовПокупателей"
BASE_UNIT_TYPE = "StandardODATA.Catalog_КлассификаторЕдиницИзмерения"
STRING_TYPE = "Edm.String"
EMPTY_DATE = "0001-01-01T00:00:00"
STOCK = "Запасы"
ATTRIBUTES = "ДополнительныеРеквизиты"
INCOMING_NUMBER = "НомерВходящегоДокумента"
# Set when the order is created, owned by 1C afterwards (state moves there; the deal id is the key).
CREATE_ONLY = frozenset(
    {"ВидОперации", "СостояниеЗаказа", "СостояниеЗаказа_Type", ATTRIBUTES, INCOMING_NUMBER}
)

_CENT = Decimal("0.01")
_MILLI = Decimal("0.001")


class ProductRefs(NamedTuple):
    """A Bitrix24 product's 1C side: nomenclature, its unit and VAT rate (`Ref_Key`s)."""

    nomenclature: str
    unit: str | None = None
    vat_rate: str | None = None
    unit_type: str = BASE_UNIT_TYPE
    # The percentage of `vat_rate`; None = unknown, then the row's own TAX_RATE is used.
    vat_percent: Decimal | None = None


class OrderDraft(BaseModel):
    model_config = ConfigDict(frozen=True)
    deal_id: int
    body: dict[str, Any]  # the POST body for a new order
    mapped: dict[str, Any]  # the fields Bitrix24 owns: fingerprint input and update source


class Unmatched(BaseModel):
    """Products with no 1C nomenclature (no link, no article match): the order is not written."""

    model_config = ConfigDict(frozen=True)
    products: tuple[str, ...]


def number(value: Decimal) -> int | float:
    """A JSON number as 1C writes it back (20000, 899.1), so comparisons and hashes are stable."""
    return int(value) if value == value.to_integral_value() else float(value)


def order_date(deal: Deal) -> str:
    """BEGINDATE, else DATE_CREATE: the date as the portal shows it (its own offset), no zone."""
    moment = deal.begin_date or deal.date_create
    if moment is None:
        raise PermanentError(f"deal {deal.id}: neither BEGINDATE nor DATE_CREATE is set")
    return f"{moment.date().isoformat()}T00:00:00"


def order_lookup_filter(deal_id: int, config: OrderConfig) -> str:
    """OData `$filter` finding the order made for a deal (lookup before create)."""
    if config.options.deal_id_storage == "incoming_number":
        return f"{INCOMING_NUMBER} eq '{config.options.incoming_number_prefix}{deal_id}'"
    prop = config.refs.deal_id_property
    return f"{ATTRIBUTES}/any(d: d/Свойство_Key eq guid'{prop}' and d/Значение eq '{deal_id}')"


def _refs(value: ProductRefs | tuple[Any, ...]) -> ProductRefs:
    return value if isinstance(value, ProductRefs) else ProductRefs(*value)


def row_total(row: ProductRow) -> Decimal:
    """What the order row's Сумма will be: the rounded price times the rounded quantity."""
    quantity = row.quantity.quantize(_MILLI, ROUND_HALF_UP)
    price = row.price.quantize(_CENT, ROUND_HALF_UP)
    return (price * quantity).quantize(_CENT, ROUND_HALF_UP)


def amount_mismatch(snapshot: DealSnapshot) -> tuple[Decimal, Decimal] | None:
    """(deal amount, rows total) when the deal has rows whose total differs from OPPORTUNITY
    (a manually entered amount); the order carries the rows, so a person must know."""
    rows = snapshot.ordered_rows
    if not rows:
        return None
    total = sum((row_total(r) for r in rows), Decimal(0))
    amount = snapshot.deal.opportunity.quantize(_CENT, ROUND_HALF_UP)
    return None if total == amount else (amount, total)


def _stock_row(line: int, row: ProductRow, refs: ProductRefs) -> dict[str, Any]:
    quantity = row.quantity.quantize(_MILLI, ROUND_HALF_UP)
    price = row.price.quantize(_CENT, ROUND_HALF_UP)
    total = row_total(row)
    result: dict[str, Any] = {
        "LineNumber": line,
        "Номенклатура_Key": refs.nomenclature,
        "Количество": number(quantity),
    }
    if refs.unit:
        result["ЕдиницаИзмерения"] = refs.unit
        result["ЕдиницаИзмерения_Type"] = refs.unit_type
    result["Цена"] = number(price)
    result["Сумма"] = number(total)
    if refs.vat_rate:
        result["СтавкаНДС_Key"] = refs.vat_rate
        # The VAT follows the rate written on this row (the 1C rate's own percentage when known).
        percent = refs.vat_percent if refs.vat_percent is not None else row.tax_rate
        if percent is not None:
            # Bitrix24's PRICE already includes tax, so the VAT is carved out of the total.
            vat = (total * percent / (Decimal(100) + percent)).quantize(_CENT, ROUND_HALF_UP)
            result["СуммаНДС"] = number(vat)
    result["Всего"] = number(total)
    return result


def unmatched_products(
    rows: Sequence[ProductRow], product_refs: Mapping[int, ProductRefs | tuple[Any, ...]]
) -> tuple[str, ...]:
    names: list[str] = []
    for row in rows:
        if row.product_id and row.product_id in product_refs:
            continue
        name = row.product_name.strip() or f"товар #{row.product_id}"
        if name not in names:
            names.append(name)
    return tuple(names)


def build_order(
    snapshot: DealSnapshot,
    counterparty_ref: str,
    responsible_ref: str | None,
    product_refs: Mapping[int, ProductRefs | tuple[Any, ...]],
    config: OrderConfig,
    *,
    amount_item: ProductRefs | None = None,
) -> OrderDraft | Unmatched:
    """The order for a deal, or the products that keep it from being written.

    A deal with an amount and no product rows gets one row of `amount_item` (the configured
    service) carrying OPPORTUNITY (§2.1.1.11 "Сумма сделки — Сумма заказа")."""
    rows = snapshot.ordered_rows
    missing = unmatched_products(rows, product_refs)
    if missing:
        return Unmatched(products=missing)
    deal = snapshot.deal
    refs = config.refs
    body: dict[str, Any] = {
        "Date": order_date(deal),
        "ВидОперации": "ЗаказНаПродажу",
        "Организация_Key": refs.organization,
        "Контрагент_Key": counterparty_ref,
    }
    if responsible_ref:
        body["Ответственный_Key"] = responsible_ref
    body["СостояниеЗаказа"] = refs.initial_state
    body["СостояниеЗаказа_Type"] = ORDER_STATE_TYPE
    comment = strip_markup(deal.comments)
    if comment:
        body["Комментарий"] = comment
    body["СуммаВключаетНДС"] = True
    if refs.price_kind:
        body["ВидЦен_Key"] = refs.price_kind
    if refs.reserve_warehouse:
        body["СтруктурнаяЕдиницаРезерв_Key"] = refs.reserve_warehouse
    body[STOCK] = [_stock_row(i, row, _refs(product_refs[row.product_id])) for i, row in enumerate(rows, 1)]
    if not rows and deal.opportunity > 0:
        if amount_item is None:
            raise ConfigurationError(
                "deal flow: the service for a deal's amount (onec.deal_amount_item) is not resolved; "
                "run setup"
            )
        amount_row = ProductRow.model_validate({"PRICE": str(deal.opportunity), "QUANTITY": "1"})
        body[STOCK] = [_stock_row(1, amount_row, amount_item)]
    if config.options.deal_id_storage == "incoming_number":
        body[INCOMING_NUMBER] = f"{config.options.incoming_number_prefix}{deal.id}"
    else:
        body[ATTRIBUTES] = [
            {
                "LineNumber": 1,
                "Свойство_Key": refs.deal_id_property,
                "Значение": str(deal.id),
                "Значение_Type": STRING_TYPE,
            }
        ]
    mapped = {k: v for k, v in body.items() if k not in CREATE_ONLY}
    return OrderDraft(deal_id=deal.id, body=body, mapped=mapped)


def mapped_fingerprint_input(draft: OrderDraft) -> dict[str, Any]:
    """The canonical mapped field set (plain JSON types) the flow hashes and stores on the link."""
    return {key: _plain(value) for key, value in sorted(draft.mapped.items())}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def is_empty(value: Any) -> bool:
    """Empty in either system's terms: nothing, blank text, the empty reference or date, no rows."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip() or value in (EMPTY_GUID, EMPTY_DATE)
    if isinstance(value, list | tuple | dict):
        return not value
    return False


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, bool) or isinstance(old, bool):
        return old is new
    if isinstance(new, int | float) and isinstance(old, int | float | str):
        try:
            return Decimal(str(old)) == Decimal(str(new))
        except ArithmeticError:
            return False
    if isinstance(new, str) and isinstance(old, str):
        return old.strip().lower() == new.strip().lower() if _looks_like_guid(new) else old == new
    return bool(old == new)


def _looks_like_guid(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


def _same_rows(old: Any, new: list[Any]) -> bool:
    """Rows as 1C returns them carry more columns (Ref_Key, Резерв…) and LineNumber as text:
    compare only the columns we write."""
    if not isinstance(old, list) or len(old) != len(new):
        return False
    for old_row, new_row in zip(old, new, strict=True):
        if not isinstance(old_row, Mapping) or not isinstance(new_row, Mapping):
            return bool(old_row == new_row)
        for key, value in new_row.items():
            if key not in old_row or not _same(old_row[key], value):
                return False
    return True


def order_patch(previous: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body: fields of `new` that are non-empty and differ from `previous`.

    `previous` may be the last mapped set written or the order as read from 1C. An empty source
    value never clears the target (§2.2.12.11) — a deal whose rows were all removed keeps the
    order's rows; a tabular section that differs is sent whole (1C replaces sections on PATCH).
    """
    patch: dict[str, Any] = {}
    for key, value in new.items():
        if is_empty(value):
            continue
        old = previous.get(key)
        changed = not _same_rows(old, value) if isinstance(value, list) else not _same(old, value)
        if changed:
            patch[key] = value
    return patch


def close_order_patch(outcome: OrderOutcome, config: OrderConfig) -> dict[str, Any]:
    """WON → the completed state, "Успешно"; LOSE → the cancelled state, "Отменен"."""
    won = outcome is OrderOutcome.COMPLETED
    return {
        "СостояниеЗаказа": config.refs.completed_state if won else config.refs.cancelled_state,
        "СостояниеЗаказа_Type": ORDER_STATE_TYPE,
        "ВариантЗавершения": "Успешно" if won else "Отменен",
    }


_SHIPMENT_HEADER = (
    "Организация_Key",
    "Контрагент_Key",
    "Договор_Key",
    "ВалютаДокумента_Key",
    "ВидЦен_Key",
    "Курс",
    "Кратность",
    "НалогообложениеНДС",
    "СуммаВключаетНДС",
    "Ответственный_Key",
)
_SHIPMENT_ROW = (
    "Номенклатура_Key",
    "Характеристика_Key",
    "Партия_Key",
    "Количество",
    "ЕдиницаИзмерения",
    "ЕдиницаИзмерения_Type",
    "Цена",
    "ПроцентСкидкиНаценки",
    "Сумма",
    "СтавкаНДС_Key",
    "СуммаНДС",
    "Всего",
    "Содержание",
)


def _odata_datetime(moment: date | datetime) -> str:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=None, microsecond=0).isoformat()
    return f"{moment.isoformat()}T00:00:00"


def shipment_body(
    order: Mapping[str, Any], shipment_date: date | datetime, config: OrderConfig
) -> dict[str, Any]:
    """`Document_РасходнаяНакладная` for a won deal, from its order as read from 1C (§2.1.1.18)."""
    order_ref = order.get("Ref_Key")
    if not isinstance(order_ref, str) or is_empty(order_ref):
        raise PermanentError("shipment: the order has no Ref_Key")
    body: dict[str, Any] = {
        "Date": _odata_datetime(shipment_date),
        "ВидОперации": "ПродажаПокупателю",
        "Заказ": order_ref,
        "Заказ_Type": ORDER_TYPE,
    }
    for key in _SHIPMENT_HEADER:
        if key in order and not is_empty(order[key]):
            body[key] = order[key]
    warehouse = order.get("СтруктурнаяЕдиницаРезерв_Key")
    if isinstance(warehouse, str) and not is_empty(warehouse):
        body["СтруктурнаяЕдиница_Key"] = warehouse
    elif config.refs.reserve_warehouse:
        body["СтруктурнаяЕдиница_Key"] = config.refs.reserve_warehouse
    number_text = str(order.get("Number") or "").strip()
    if number_text:
        body["Комментарий"] = f"По заказу покупателя № {number_text}: сделка Битрикс24 успешно завершена"
    rows = order.get(STOCK) or []
    body[STOCK] = [
        {
            "LineNumber": line,
            **{k: row[k] for k in _SHIPMENT_ROW if k in row and not is_empty(row[k])},
            "Заказ": order_ref,
            "Заказ_Type": ORDER_TYPE,
        }
        for line, row in enumerate(rows, 1)
        if isinstance(row, Mapping)
    ]
    return body
