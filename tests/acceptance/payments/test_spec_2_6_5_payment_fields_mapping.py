"""§2.6.5: 1C payment fields and statuses are mapped onto the deal (mappings.md §2)."""

from __future__ import annotations

import pytest

from sandbox.local.stack import LocalStack
from sandbox.world.payments import PaymentsWorld, onec_time
from tests.harness.payments_stack import invoke_poll

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


def test_spec_2_6_5_a_payment_after_the_shipment_is_a_postpayment(
    stack: LocalStack, world: PaymentsWorld
) -> None:
    deal_id, order_ref = world.linked_deal()
    world.pay(order_ref, 500, date=onec_time(minutes=-50))  # an advance before the goods leave
    world.ship(order_ref, date=onec_time(minutes=-30))
    invoke_poll(stack)
    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Предоплата"

    # The rest is paid for goods already shipped: 1C marks its row as no advance (ПризнакАванса).
    world.pay(order_ref, 750, advance=False, comment="Оплата после отгрузки", date=onec_time(minutes=-5))
    invoke_poll(stack)

    deal = world.deal(deal_id)
    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Постоплата"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Оплачен"
    assert deal["UF_CRM_1C_PAID"] == "1250.00|RUB"
    types = sorted(entry["Тип оплаты"] for entry in world.registry_elements())
    assert types == ["Постоплата", "Предоплата"]


def test_spec_2_6_5_a_card_payment_is_counted_and_a_refund_is_audited(
    stack: LocalStack, world: PaymentsWorld
) -> None:
    deal_id, order_ref = world.linked_deal()
    world.pay(order_ref, 1250, card=True, comment="Терминал 1", date=onec_time(minutes=-10))
    refund = world.pay(order_ref, 100, card=True, operation="ВозвратОплатыПокупателю")

    report = invoke_poll(stack)

    assert report["failed"] == {}
    assert world.deal(deal_id)["UF_CRM_1C_PAID"] == "1250.00|RUB"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_METHOD") == "Безналичный расчет"
    [skipped] = [a for a in world.audit("payments") if a["outcome"] == "skipped"]
    assert skipped["subject"] == f"PAYMENT-{refund}"
    assert "ВозвратОплатыПокупателю" in skipped["reason"]
