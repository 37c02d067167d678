"""§2.6.4: the order's payment status changes in 1C → the linked deal field «Оплата» changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.settings import load_mapping
from sandbox.demo_steps.payments import PaymentsWorld, invoke_poll, mapping_file, reset_world, start_stack
from sandbox.local.stack import LocalStack

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = start_stack(moto_endpoint, "pay264-", tmp_path_factory.mktemp("pay264"))
    yield running
    running.stop()


@pytest.fixture
def world(stack: LocalStack, tmp_path: Path) -> PaymentsWorld:
    world = PaymentsWorld.of_stack(stack, load_mapping(mapping_file(tmp_path)))
    reset_world(world)
    world.setup()
    return world


def linked(world: PaymentsWorld, stage: str = "PREPAYMENT_INVOICE", category: int = 0) -> tuple[int, str]:
    deal_id = world.new_deal("Поставка болтов", assigned=3, stage=stage, category=category)
    order_ref = world.new_order(quantity=100, price=12.5)  # order sum 1 250.00
    world.link(deal_id, order_ref)
    return deal_id, order_ref


def test_spec_2_6_4_payment_status_follows_1c(stack: LocalStack, world: PaymentsWorld) -> None:
    deal_id, order_ref = linked(world)
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
    assert len(world.workflows()) == 2


def test_spec_2_6_4_unposting_a_payment_recomputes_the_status(
    stack: LocalStack, world: PaymentsWorld
) -> None:
    deal_id, order_ref = linked(world)
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
