"""The payments flow's settings: names and decisions people configure (mapping section `[payments]`).

Ids are never configured here: setup resolves enum option ids, stage ids and 1C order-state
references from these names and stores them in SyncTable (`bridge.payments.resolved`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.config.deal import DealMapping


class PaymentFieldCodes(BaseModel):
    """Deal user fields the flow writes (mappings.md §2). Configured in `[deal]` (`pay_*_field`),
    where the deal flow's setup creates them; this is their view for the payment rules, with no
    defaults of its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    pay_date: str
    pay_type: str
    paid: str
    pay_method: str
    pay_comment: str
    pay_status: str
    order_sum: str

    @classmethod
    def of(cls, deal: DealMapping | None = None) -> PaymentFieldCodes:
        """The codes of `deal`; without one, of the default `[deal]`."""
        deal = deal or DealMapping()
        return cls.model_validate({name: getattr(deal, f"{name}_field") for name in cls.model_fields})


class EnumLabels(BaseModel):
    """Option texts of the three enumeration fields, as people see them in Bitrix24 (the deal
    setup creates the fields with these values)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    prepayment: str = "Предоплата"
    full_payment: str = "Полная оплата"
    postpayment: str = "Постоплата"
    not_paid: str = "Не оплачен"
    partially_paid: str = "Частично оплачен"
    paid: str = "Оплачен"
    non_cash: str = "Безналичный расчет"
    cash: str = "Наличный расчет"


class StateStageRule(BaseModel):
    """1C order state (Catalog_СостоянияЗаказовПокупателей.Description) → stage of one funnel (§1.8.2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    state: str = Field(min_length=1)
    funnel: str = Field(min_length=1)
    stage: str = Field(min_length=1)


# The registry's logical values, once: (value, the business process template's parameter, the name
# of the list field setup creates). The template takes no deal, 1C key or state; the list keeps them.
REGISTRY_VALUES: tuple[tuple[str, str | None, str], ...] = (
    ("deal", None, "Сделка"),
    ("order_number", "OrderNumber", "Номер заказа"),
    ("date", "PaymentDate", "Дата оплаты"),
    ("type", "PaymentType", "Тип оплаты"),
    ("amount", "PaymentAmount", "Сумма"),
    ("method", "PaymentMethod", "Способ оплаты"),
    ("comment", "PaymentComment", "Комментарий"),
    ("payment_ref", None, "Документ 1С (ключ)"),
    ("state", None, "Состояние"),
)


class RegistryOptions(BaseModel):
    """Payment registry (§2.1.1.13, §2.2.7). Default: the universal list «Реестр оплат» that setup
    creates, one element per payment. With `bizproc_template_id`, a business process per payment
    instead; `kind = "none"` switches the registry off."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["auto", "list", "bizproc", "none"] = "auto"  # auto: bizproc if a template is set, else list
    bizproc_template_id: int | None = Field(None, gt=0)
    # Logical value → the template's parameter name.
    bizproc_parameters: dict[str, str] = Field(
        default_factory=lambda: {value: param for value, param, _ in REGISTRY_VALUES if param}
    )
    list_iblock_type_id: Literal["lists", "bitrix_processes", "lists_socnet"] = "lists"
    # An existing list (id or code) the customer made; empty = the list setup creates (below).
    list_iblock_id: str = ""
    # Logical value → the existing list's field (`PROPERTY_<id>`); NAME is always filled.
    list_fields: dict[str, str] = Field(default_factory=dict)
    # The list setup creates when `list_iblock_id` is empty: its code (IBLOCK_CODE), name, and
    # the name of each field (codes are fixed, see `bridge.payments.registry`).
    list_code: str = Field("unf_b24_payments", pattern=r"^[A-Za-z0-9_]{1,50}$")
    list_name: str = Field("Реестр оплат", min_length=1)
    list_field_names: dict[str, str] = Field(
        default_factory=lambda: {value: name for value, _, name in REGISTRY_VALUES}
    )
    # `S:Date` values in the portal's short date format (needs a live check: docs/sandbox-b24.md).
    list_date_format: str = "%d.%m.%Y"
    posted_text: str = "Проведена"
    withdrawn_text: str = "Отменена в 1С"

    @property
    def mode(self) -> Literal["bizproc", "list", "none"]:
        if self.kind != "auto":
            return self.kind
        return "bizproc" if self.bizproc_template_id is not None else "list"


def _default_state_rules() -> tuple[StateStageRule, ...]:
    # Defaults for the sandbox portal; the customer confirms the real table (docs/payments-flow.md).
    return (
        StateStageRule(state="Завершен", funnel="Продажи", stage="Получение обратной связи"),
        StateStageRule(state="В работе", funnel="Заказ материала", stage="Заказ у поставщика"),
        StateStageRule(state="Завершен", funnel="Заказ материала", stage="Материал получен"),
    )


class PaymentsMapping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    enabled: bool = True
    # Documents dated within this many days back are watched (architecture §4).
    window_days: int = Field(30, ge=1, le=3650)
    manifest_page_size: int = Field(2000, ge=50, le=10_000)
    # 1C keeps local time without a zone; the window is computed in it (a fixed offset: the Lambda
    # runtime carries no time-zone database).
    onec_utc_offset_hours: int = Field(3, ge=-12, le=14)
    currency: str = Field("RUB", min_length=3, max_length=3)
    # ВидОперации values whose receipts never count (refunds, the acquirer's settlement of card
    # payments already counted from the card documents). Every other posted receipt with a
    # breakdown row for the order counts; a skipped one leaves a log line and an audit item.
    excluded_operations: tuple[str, ...] = ("ВозвратОплатыПокупателю", "ПоступлениеОплатыПоКартам")
    # Payment type from 1C's own advance sign (`ПризнакАванса` of the breakdown rows) where the
    # receipt carries it; otherwise (or when off) the shipment rule below.
    use_advance_sign: bool = True
    # Payment type: postpayment when the latest payment is dated after the first posted shipment.
    postpayment_after_shipment: bool = True
    # Order states after which an order older than the window is no longer watched for sum and
    # state changes (an open order is watched however old it is; payments are always watched).
    closed_states: tuple[str, ...] = ("Завершен",)
    # Refs per 1C request when checking them: 25 keeps the URL under IIS's default 2 KB query string.
    open_orders_chunk: int = Field(25, ge=1, le=200)
    # The stage itself is `[deal] feedback_stage`, resolved in each funnel that has it.
    partial_payment_moves_stage: bool = True
    state_stages: tuple[StateStageRule, ...] = Field(default_factory=_default_state_rules)
    labels: EnumLabels = EnumLabels()
    registry: RegistryOptions = RegistryOptions()
    notify: bool = True
    notify_client_id: str = "unf-b24-bridge"  # CLIENT_ID: required with TAG on webhook calls
    portal_url: str = ""  # for deal links; empty = the inbound webhook's origin
    lease_seconds: int = Field(120, ge=10)
    # A new order seen before the deal flow linked it is re-checked for this long.
    unlinked_recheck_minutes: int = Field(10, ge=0)
