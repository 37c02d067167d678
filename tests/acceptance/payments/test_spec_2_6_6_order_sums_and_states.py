"""§2.6.6: order sum and paid sum filled in 1C reach the deal; §1.8.2: an order state change moves
the deal to the mapped stage of its own funnel."""

from __future__ import annotations

import pytest

from sandbox.local.stack import LocalStack
from sandbox.world.payments import PaymentsWorld
from tests.harness.payments_stack import invoke_poll

pytestmark = pytest.mark.acceptance


def test_spec_2_6_6_order_and_paid_sums_reach_the_deal(stack: LocalStack, world: PaymentsWorld) -> None:
    deal_id, order_ref = world.linked_deal()
    world.pay(order_ref, 400)
    invoke_poll(stack)
    assert world.deal(deal_id)["UF_CRM_1C_ORDER_SUM"] == "1250.00|RUB"

    with world.onec() as onec:  # the order's rows change in 1C: 1C recomputes СуммаДокумента
        onec.update(
            "Document_ЗаказПокупателя",
            order_ref,
            {"Запасы": [{"LineNumber": 1, "Количество": 200, "Цена": 12.5, "Сумма": 2500, "Всего": 2500}]},
        )
    invoke_poll(stack)

    deal = world.deal(deal_id)
    assert deal["UF_CRM_1C_ORDER_SUM"] == "2500.00|RUB"
    assert deal["UF_CRM_1C_PAID"] == "400.00|RUB"
    assert len(world.notifications(3)) == 1  # a sum change is not a new payment


def test_spec_2_6_6_order_state_moves_the_deal_in_its_own_funnel(
    stack: LocalStack, world: PaymentsWorld
) -> None:
    materials_deal, materials_order = world.linked_deal(stage="C1:NEW", category=1)
    sales_deal, sales_order = world.linked_deal(stage="PREPAYMENT_INVOICE")
    invoke_poll(stack)

    world.set_state(materials_order, "В работе")  # mapped in «Заказ материала» only
    world.set_state(sales_order, "В работе")
    invoke_poll(stack)

    # §2.2.8 (deal.no_exchange_after_order_funnels): after its order, «Заказ материала» works
    # without 1C — the state mapped there («Заказ у поставщика») does not move the deal.
    assert world.deal(materials_deal)["STAGE_ID"] == "C1:NEW"
    assert world.deal(sales_deal)["STAGE_ID"] == "PREPAYMENT_INVOICE"  # unmapped there: unchanged

    world.set_state(sales_order, "Завершен")
    invoke_poll(stack)
    assert world.deal(sales_deal)["STAGE_ID"] == "EXECUTING"  # «Получение обратной связи»
