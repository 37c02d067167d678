"""§2.6.3: a payment recorded in 1C → the manager is notified in Bitrix24 and the deal's stage changes
(full local stack: the real PaymentsPollFunction, invoked as its schedule would)."""

from __future__ import annotations

import pytest

from sandbox.local.stack import LocalStack
from sandbox.world.payments import PaymentsWorld
from tests.harness.payments_stack import invoke_poll

pytestmark = pytest.mark.acceptance


def test_spec_2_6_3_payment_in_1c_notifies_the_manager_and_moves_the_deal(
    stack: LocalStack, world: PaymentsWorld
) -> None:
    deal_id = world.new_deal("Поставка болтов", assigned=3, stage="PREPAYMENT_INVOICE")
    order_ref = world.new_order(quantity=100, price=12.5)
    world.link(deal_id, order_ref)
    payment = world.pay(order_ref, 1250, comment="Оплата по счёту 15")

    report = invoke_poll(stack)

    assert report["failed"] == {}
    assert report["deals_written"] == [deal_id]
    deal = world.deal(deal_id)
    assert deal["STAGE_ID"] == "EXECUTING"  # «Получение обратной связи» of «Продажи»
    [notice] = world.notifications(3)
    assert notice["tag"] == f"1c-pay-{payment}"
    assert "1 250.00 руб." in notice["message"]
    assert world.order_number(order_ref) in notice["message"]
    assert f"/crm/deal/details/{deal_id}/" in notice["message"]
    # The payment registry (§2.1.1.13) out of the box: one element of «Реестр оплат».
    [entry] = world.registry_elements()
    assert entry["Сделка"] == str(deal_id)
    assert entry["Номер заказа"] == world.order_number(order_ref)
    assert entry["Сумма"] == "1250.00"
    assert entry["Тип оплаты"] == "Полная оплата"
    assert entry["Способ оплаты"] == "Безналичный расчет"
    assert entry["Комментарий"] == "Оплата по счёту 15"
    assert entry["Документ 1С (ключ)"] == payment
    assert entry["Состояние"] == "Проведена"
    assert world.workflows() == []


def test_spec_2_6_3_a_second_run_without_changes_writes_nothing(
    stack: LocalStack, world: PaymentsWorld
) -> None:
    deal_id = world.new_deal("Поставка болтов", assigned=3, stage="PREPAYMENT_INVOICE")
    order_ref = world.new_order()
    world.link(deal_id, order_ref)
    world.pay(order_ref, 500)
    invoke_poll(stack)
    cursor = world.b24_cursor()

    invoke_poll(stack)

    assert world.b24_calls(cursor) == []
    assert len(world.notifications(3)) == 1


def test_spec_2_6_3_a_deal_in_won_is_not_moved(stack: LocalStack, world: PaymentsWorld) -> None:
    deal_id = world.new_deal("Уже закрыта", assigned=3, stage="WON")
    order_ref = world.new_order()
    world.link(deal_id, order_ref)
    world.pay(order_ref, 1250)

    invoke_poll(stack)

    assert world.deal(deal_id)["STAGE_ID"] == "WON"
