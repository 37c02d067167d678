"""What the deal flow tells Bitrix24: the order's number and ref on the deal, and timeline texts.

1C owns the order number (mappings.md §1), so it is written back once the order exists. People
learn about problems where they work — the deal's timeline — in plain Russian: which products have
no 1C nomenclature, which manager was not found, which counterparties were ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bridge.config.deal import DealMapping
from bridge.deals.buyer import CounterpartyCandidate
from bridge.deals.decisions import OrderAction
from bridge.deals.snapshot import DealSnapshot
from bridge.domain.users import B24User


def deal_writeback(order_number: str, order_ref: str, mapping: DealMapping) -> dict[str, Any]:
    """`crm.deal.update` fields: the 1C order number and Ref_Key in the configured user fields."""
    return {mapping.order_number_field: order_number.strip(), mapping.order_ref_field: order_ref}


def deal_writeback_patch(
    current_user_fields: dict[str, Any], order_number: str, order_ref: str, mapping: DealMapping
) -> dict[str, Any]:
    """Only the fields whose value differs, so an unchanged deal is not written (no echo event)."""
    wanted = deal_writeback(order_number, order_ref, mapping)
    return {k: v for k, v in wanted.items() if str(current_user_fields.get(k) or "") != v}


def order_created_text(order_number: str) -> str:
    return f"Заказ покупателя № {order_number.strip()} создан в 1С"


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"«{name}»" for name in names)


def unmatched_products_text(products: Iterable[str]) -> str:
    return (
        "Заказ в 1С не создан: нет номенклатуры 1С для товаров "
        f"{_quoted(products)}. Выберите товары из каталога, синхронизированного с 1С, "
        "и сохраните сделку ещё раз."
    )


def responsible_warning_text(user: B24User | None, assigned_by_id: int | None, used_default: bool) -> str:
    who = f"«{user.display_name}»" if user else f"#{assigned_by_id}" if assigned_by_id else "сделки"
    tail = "в заказе указан сотрудник по умолчанию" if used_default else "ответственный в заказе не указан"
    return f"Ответственный {who} не найден среди сотрудников 1С; {tail}."


def no_responsible_text(user: B24User | None, assigned_by_id: int | None) -> str:
    who = f"«{user.display_name}»" if user else f"#{assigned_by_id}" if assigned_by_id else "сделки"
    return (
        f"Заказ в 1С не записан: ответственный {who} не найден среди сотрудников 1С, а сотрудник "
        "по умолчанию не настроен. Администратору: укажите onec.default_responsible и запустите setup."
    )


def _money(value: Decimal) -> str:
    """1234567.5 → "1 234 567,50" as a Russian reader expects."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def amount_mismatch_text(amount: Decimal, rows_total: Decimal) -> str:
    return (
        f"Сумма сделки {_money(amount)} отличается от суммы товаров {_money(rows_total)}. "
        f"В заказ 1С переданы товары на {_money(rows_total)}; если нужна другая сумма, поправьте "
        "товары в сделке."
    )


def shipment_failed_text(order_number: str, reason: str) -> str:
    number = f" № {order_number.strip()}" if order_number.strip() else ""
    return (
        f"Сделка успешна, заказ{number} в 1С завершён, но расходная накладная не создана или не "
        f"проведена: {reason}. Попытка будет повторена автоматически."
    )


def won_without_order_text() -> str:
    return (
        "Сделка закрыта как успешная, но заказа покупателя в 1С по ней нет: завершение в 1С не "
        "передано и накладная не создана. Оформите заказ и отгрузку в 1С вручную или верните "
        "сделку на стадию «Продажа материала»."
    )


def ambiguous_counterparty_text(party_name: str, candidates: Iterable[CounterpartyCandidate]) -> str:
    listed = "; ".join(
        f"{c.description}" + (f" (ИНН {c.inn}" + (f", КПП {c.kpp}" if c.kpp else "") + ")" if c.inn else "")
        for c in candidates
    )
    return (
        f"Заказ в 1С не создан: для «{party_name}» в 1С найдено несколько подходящих контрагентов: "
        f"{listed}. Оставьте один (или уточните ИНН/КПП в реквизитах) и сохраните сделку ещё раз."
    )


def out_of_stock_text(action: OrderAction, copy_deal_id: int | None = None) -> str:
    items = ", ".join(
        f"«{p.name}» (нужно {p.requested.normalize():f}, свободно {p.free.normalize():f})"
        for p in action.short_products
    )
    where = f" как сделка {copy_deal_id}" if copy_deal_id else ""
    return f"Товара нет в наличии: {items}. Сделка скопирована в воронку «Заказ материала»{where}."


def materials_copy_fields(snapshot: DealSnapshot, action: OrderAction) -> dict[str, Any]:
    """`crm.deal.add` fields for the copy in the materials funnel (rows follow with
    `crm.deal.productrows.set`, see `materials_copy_rows`)."""
    deal = snapshot.deal
    fields: dict[str, Any] = {
        "TITLE": deal.title,
        "CATEGORY_ID": action.target_category_id,
        "STAGE_ID": action.target_stage_id,
        "COMPANY_ID": deal.company_id,
        "CONTACT_ID": deal.contact_id,
        "ASSIGNED_BY_ID": deal.assigned_by_id,
        "COMMENTS": deal.comments,
        "CURRENCY_ID": deal.currency_id,
        "OPPORTUNITY": f"{deal.opportunity:f}",
        "BEGINDATE": deal.begin_date.isoformat() if deal.begin_date else None,
    }
    return {k: v for k, v in fields.items() if v not in (None, "")}


def materials_copy_rows(snapshot: DealSnapshot) -> list[dict[str, Any]]:
    rows = [
        {
            "PRODUCT_ID": row.product_id,
            "PRODUCT_NAME": row.product_name,
            "PRICE": f"{row.price:f}",
            "QUANTITY": f"{row.quantity:f}",
            "TAX_RATE": None if row.tax_rate is None else f"{row.tax_rate:f}",
            "TAX_INCLUDED": "Y" if row.tax_included else "N",
            "MEASURE_CODE": row.measure_code,
            "MEASURE_NAME": row.measure_name,
            "SORT": row.sort,
        }
        for row in snapshot.ordered_rows
    ]
    return [{k: v for k, v in row.items() if v is not None} for row in rows]
