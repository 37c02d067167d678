"""§2.6.5: 1C payment fields and statuses are mapped onto the deal (mappings.md §2)."""

from __future__ import annotations

import pytest

from sandbox.demo_steps.payments import (
    PaymentsWorld,
    invoke_poll,
    onec_time,
)
from sandbox.local.stack import LocalStack

pytestmark = pytest.mark.acceptance


def test_spec_2_6_5_every_payment_field_is_mapped(stack: LocalStack, world: PaymentsWorld) -> None:
    deal_id, order_ref = world.linked_deal()
    # Dated a minute apart: "the latest payment" must not depend on two documents' numbering.
    world.pay(order_ref, 300, comment="Первый платёж", date=onec_time(minutes=-2))
    world.pay(order_ref, 200, cash=True, comment="Доплата наличными", date=onec_time(minutes=-1))

    invoke_poll(stack)

    deal = world.deal(deal_id)
    assert deal["UF_CRM_1C_PAID"] == "500.00|RUB"
    assert deal["UF_CRM_1C_ORDER_SUM"] == "1250.00|RUB"
    assert deal["UF_CRM_1C_PAY_DATE"]  # the latest payment's date
    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Предоплата"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_METHOD") == "Наличный расчет"  # the latest is a cash receipt
    assert deal["UF_CRM_1C_PAY_COMMENT"] == "Доплата наличными"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Частично оплачен"


def test_spec_2_6_5_full_payment_by_bank(stack: LocalStack, world: PaymentsWorld) -> None:
    deal_id, order_ref = world.linked_deal()
    world.pay(order_ref, 1250)

    invoke_poll(stack)

    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Полная оплата"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_METHOD") == "Безналичный расчет"
