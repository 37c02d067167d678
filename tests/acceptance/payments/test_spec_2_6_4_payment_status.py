"""§2.6.4: the order's payment status changes in 1C → the linked deal field «Оплата» changes."""

from __future__ import annotations

import pytest

from sandbox.local.stack import LocalStack
from sandbox.world.payments import PaymentsWorld
from tests.harness.payments_stack import invoke_poll

pytestmark = pytest.mark.acceptance


def test_spec_2_6_4_payment_status_follows_1c(stack: LocalStack, world: PaymentsWorld) -> None:
    deal_id, order_ref = world.linked_deal()
    invoke_poll(stack)
    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Не оплачен"

    world.pay(order_ref, 500)
    invoke_poll(stack)
    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Частично оплачен"
    assert world.deal(deal_id)["STAGE_ID"] == "EXECUTING"

    world.pay(order_ref, 750, cash=True)
    invoke_poll(stack)

    deal = world.deal(deal_id)
    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Оплачен"
    assert deal["UF_CRM_1C_PAID"] == "1250.00|RUB"
    assert len(world.notifications(3)) == 2  # one per payment
    assert len(world.registry_elements()) == 2


def test_spec_2_6_4_unposting_a_payment_recomputes_the_status(
    stack: LocalStack, world: PaymentsWorld
) -> None:
    deal_id, order_ref = world.linked_deal()
    payment = world.pay(order_ref, 1250)
    invoke_poll(stack)
    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Оплачен"

    world.unpost(payment)
    invoke_poll(stack)

    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Не оплачен"
    assert world.deal(deal_id)["UF_CRM_1C_PAID"] == "0.00|RUB"
    assert world.deal(deal_id)["STAGE_ID"] == "EXECUTING"  # never rolled back
    tags = [n["tag"] for n in world.notifications(3)]
    assert tags == [f"1c-pay-{payment}", f"1c-pay-{payment}-withdrawn"]
    [entry] = world.registry_elements()  # the registry keeps the payment, marked withdrawn
    assert (entry["Документ 1С (ключ)"], entry["Состояние"]) == (payment, "Отменена в 1С")
