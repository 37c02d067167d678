"""What the deal card needs, shared by the deal and payment setup steps: the deal user fields both
flows write and the funnels with their stages.
"""

from __future__ import annotations

from typing import Any

from bridge.b24.client import B24Client
from bridge.config.deal import DealMapping
from bridge.config.payments import EnumLabels
from bridge.domain.stages import StageBook
from bridge.setup.b24_fields import UserFieldSpec

DEAL_ENTITY_TYPE = 2  # crm.category.list entityTypeId of deals


# `[deal]` setting holding the code → what people see on the card, the field's type.
_DEAL_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("order_number_field", "Номер заказа 1С", "string"),
    ("order_ref_field", "Ключ заказа 1С", "string"),
    ("pay_date_field", "Дата оплаты", "date"),
    ("pay_type_field", "Тип оплаты", "enumeration"),
    ("paid_field", "Фактически оплачено", "money"),
    ("pay_method_field", "Способ оплаты", "enumeration"),
    ("pay_comment_field", "Комментарий к оплате", "string"),
    ("pay_status_field", "Оплата", "enumeration"),
    ("order_sum_field", "Сумма заказа", "money"),
)


def user_field_specs(deal: DealMapping, labels: EnumLabels) -> tuple[UserFieldSpec, ...]:
    """The deal fields the deal flow (order number, key) and the payment flow (§2) write; the
    enumeration options are the payment rules' labels (`[payments.labels]`)."""
    options = {
        "pay_type_field": (labels.prepayment, labels.full_payment, labels.postpayment),
        "pay_method_field": (labels.non_cash, labels.cash),
        "pay_status_field": (labels.not_paid, labels.partially_paid, labels.paid),
    }
    return tuple(
        UserFieldSpec(getattr(deal, setting), label, kind, options.get(setting, ()))
        for setting, label, kind in _DEAL_FIELDS
    )


def read_stage_book(b24: B24Client) -> StageBook:
    """Every deal funnel with its stages, as setup resolves configured names against them."""
    categories = b24.call("crm.category.list", {"entityTypeId": DEAL_ENTITY_TYPE}).result
    rows = categories.get("categories", []) if isinstance(categories, dict) else categories
    entity_ids = ["DEAL_STAGE" if int(row["id"]) == 0 else f"DEAL_STAGE_{int(row['id'])}" for row in rows]
    commands = {
        f"s{index}": ("crm.status.list", {"filter": {"ENTITY_ID": entity}, "order": {"SORT": "ASC"}})
        for index, entity in enumerate(entity_ids)
    }
    answer = b24.batch(commands)
    statuses: list[dict[str, Any]] = []
    for key in commands:
        part = answer.result.get(key) if isinstance(answer.result, dict) else None
        statuses += part if isinstance(part, list) else []
    return StageBook.from_b24(categories, statuses)
