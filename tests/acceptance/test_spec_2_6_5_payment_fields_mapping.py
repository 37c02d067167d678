"""§2.6.5: 1C payment fields and statuses are mapped onto the deal (mappings.md §2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.settings import load_mapping
from sandbox.demo_steps.payments import (
    PaymentsWorld,
    invoke_poll,
    mapping_file,
    onec_time,
    reset_world,
    start_stack,
)
from sandbox.local.stack import LocalStack

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = start_stack(moto_endpoint, "pay265-", tmp_path_factory.mktemp("pay265"))
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


def test_spec_2_6_5_every_payment_field_is_mapped(stack: LocalStack, world: PaymentsWorld) -> None:
    deal_id, order_ref = linked(world)
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
    deal_id, order_ref = linked(world)
    world.pay(order_ref, 1250)

    invoke_poll(stack)

    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Полная оплата"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_METHOD") == "Безналичный расчет"
