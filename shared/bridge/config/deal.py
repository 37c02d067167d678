"""`[deal]` of the mapping file: the deal flow's decisions and the deal user fields every flow writes.

Names as people see them; ids are resolved at setup. The user-field codes are declared here once:
the payment rules read them through `bridge.config.payments.PaymentFieldCodes.of`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.domain.counterparty import CounterpartyKind


class StageRef(BaseModel):
    """A stage named as people see it; ids are resolved at setup, never hard-coded."""

    model_config = ConfigDict(frozen=True)
    funnel: str = Field(min_length=1)
    stage: str = Field(min_length=1)  # a stage name, or "first" for the funnel's first working stage


def _default_presets() -> dict[int, CounterpartyKind]:
    # RU portal defaults: 1 Организация, 2 ИП, 3 Физ. лицо, 4 Организация (доп.)
    return {
        1: CounterpartyKind.LEGAL_ENTITY,
        2: CounterpartyKind.SOLE_PROPRIETOR,
        3: CounterpartyKind.PRIVATE_PERSON,
        4: CounterpartyKind.LEGAL_ENTITY,
    }


class DealMapping(BaseModel):
    """`[deal]`: funnels, stages, the deal user fields, and how orders are written."""

    model_config = ConfigDict(frozen=True)
    create_order_on: Literal["trigger_stages", "deal_created"] = "trigger_stages"
    trigger_stages: tuple[StageRef, ...] = (
        StageRef(funnel="Продажи", stage="Продажа материала"),
        StageRef(funnel="Заказ материала", stage="first"),
    )
    main_funnel: str = "Продажи"
    materials_funnel: str = "Заказ материала"
    feedback_stage: str = "Получение обратной связи"
    copy_out_of_stock_to_materials: bool = True
    # Deal user fields the flows write (created by setup; mappings.md §1–2).
    order_number_field: str = "UF_CRM_1C_ORDER_NO"
    order_ref_field: str = "UF_CRM_1C_ORDER_REF"
    pay_date_field: str = "UF_CRM_1C_PAY_DATE"
    pay_type_field: str = "UF_CRM_1C_PAY_TYPE"
    paid_field: str = "UF_CRM_1C_PAID"
    pay_method_field: str = "UF_CRM_1C_PAY_METHOD"
    pay_comment_field: str = "UF_CRM_1C_PAY_COMMENT"
    pay_status_field: str = "UF_CRM_1C_PAY_STATUS"
    order_sum_field: str = "UF_CRM_1C_ORDER_SUM"
    # Where the deal id lives in 1C: a row of the order's ДополнительныеРеквизиты (default), or
    # НомерВходящегоДокумента = "<prefix><deal id>" where additional attributes are switched off.
    deal_id_storage: Literal["additional_attribute", "incoming_number"] = "additional_attribute"
    incoming_number_prefix: str = Field("B24-", max_length=10)
    post_shipment: bool = False  # post the shipment made for a won deal
    # Bitrix24 requisite preset id → 1C ВидКонтрагента (RU portal defaults).
    requisite_presets: dict[int, CounterpartyKind] = Field(default_factory=_default_presets)
    # §2.2.8: funnels where, once the order exists, work goes on in Bitrix24 alone: deal edits do
    # not update the order and 1C order states do not move the deal; only a won deal reaches 1C.
    no_exchange_after_order_funnels: tuple[str, ...] = ("Заказ материала",)
