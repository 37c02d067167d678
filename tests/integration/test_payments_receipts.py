"""Issue 10, payments → deal: every receipt kind counts, nothing is dropped silently, older open
orders stay watched, 1C's advance sign decides the type, the registry list works out of the box.

In-process: both emulators over HTTP, SyncTable on moto server, the poll called directly (its
clock injected to let an order age out of the 30-day window)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from bridge.config.mapping import Mapping
from bridge.config.payments import PaymentsMapping, RegistryOptions
from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.payments.manifest import OPEN_ORDERS_MANIFEST
from bridge.payments.poller import poll
from bridge.payments.recompute import PaymentsContext, recompute_order
from bridge.payments.resolved import resolved_config
from bridge.store import SyncStore
from sandbox.serve import RunningServer
from sandbox.world.payments import PaymentsWorld, onec_time
from tests.harness.emulators import payments_world

pytestmark = pytest.mark.integration


def make_world(
    servers: tuple[RunningServer, RunningServer], table: str, dynamodb: Any, options: PaymentsMapping
) -> PaymentsWorld:
    return payments_world(servers, table, dynamodb, Mapping(payments=options))


@pytest.fixture
def world(servers: tuple[RunningServer, RunningServer], sync_table: str, dynamodb: Any) -> PaymentsWorld:
    """The default mapping: the registry is the list setup creates."""
    return make_world(servers, sync_table, dynamodb, PaymentsMapping())


def context(world: PaymentsWorld, clock: float | None = None) -> PaymentsContext:
    ports = world.ports()
    ctx = PaymentsContext(
        ports=ports,
        options=world.mapping.payments,
        resolved=resolved_config(ports.store),
        portal_url="https://portal.example",
    )
    return ctx if clock is None else replace(ctx, clock=lambda: clock)


def linked_deal(world: PaymentsWorld, *, stage: str = "PREPAYMENT_INVOICE") -> tuple[int, str]:
    deal_id = world.new_deal("Поставка болтов", assigned=3, stage=stage)
    order_ref = world.new_order(quantity=100, price=12.5)  # sum 1250
    world.link(deal_id, order_ref)
    return deal_id, order_ref


def audit_today(world: PaymentsWorld) -> list[dict[str, object]]:
    return world.audit("payments")


# -- 5. every receipt kind counts; a skipped one leaves an audit item ----------------------------
def test_a_card_payment_counts_towards_the_order(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world)
    world.pay(order_ref, 500, date=onec_time(minutes=-10))
    card = world.pay(order_ref, 750, card=True, comment="Оплата картой", date=onec_time(minutes=-5))

    report = poll(context(world))

    assert report.failed == {}
    assert world.deal(deal_id)["UF_CRM_1C_PAID"] == "1250.00|RUB"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_STATUS") == "Оплачен"
    assert world.shown(deal_id, "UF_CRM_1C_PAY_METHOD") == "Безналичный расчет"
    assert world.deal(deal_id)["UF_CRM_1C_PAY_COMMENT"] == "Оплата картой"
    assert f"1c-pay-{card}" in [n["tag"] for n in world.notifications(3)]


def test_a_receipt_of_another_operation_kind_counts_unless_it_is_excluded(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world)
    world.pay(order_ref, 300, operation="ПрочееПоступление", date=onec_time(minutes=-10))
    refund = world.pay(
        order_ref, 200, card=True, operation="ВозвратОплатыПокупателю", date=onec_time(minutes=-5)
    )

    poll(context(world))
    poll(context(world))  # a second look audits nothing new

    assert world.deal(deal_id)["UF_CRM_1C_PAID"] == "300.00|RUB"
    skipped = [a for a in audit_today(world) if a["outcome"] == "skipped"]
    assert len(skipped) == 1
    assert skipped[0]["subject"] == f"PAYMENT-{refund}"
    assert "ВозвратОплатыПокупателю" in str(skipped[0]["reason"])
    assert skipped[0]["deal"] == deal_id
    assert skipped[0]["kind"] == "card"


# -- 5. an open order is watched however old ----------------------------------------------------
def test_an_open_order_older_than_the_window_is_still_watched(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world)
    poll(context(world))
    assert world.deal(deal_id)["UF_CRM_1C_ORDER_SUM"] == "1250.00|RUB"
    later = time.time() + timedelta(days=45).total_seconds()  # the order is now 45 days old
    poll(context(world, later))
    assert order_ref in SyncStore(world.table_name, world.dynamodb).manifests.get(OPEN_ORDERS_MANIFEST)

    with world.onec() as onec:  # the manager adds goods to the old order: its sum changes
        onec.update(
            ORDER_SET,
            order_ref,
            {
                "Запасы": [
                    {
                        "LineNumber": 1,
                        "Номенклатура_Key": _bolt(),
                        "Количество": 200,
                        "Цена": 12.5,
                        "Сумма": 2500,
                        "Всего": 2500,
                    }
                ]
            },
        )
    poll(context(world, later + 60))
    assert world.deal(deal_id)["UF_CRM_1C_ORDER_SUM"] == "2500.00|RUB"

    world.set_state(order_ref, "Завершен")  # closed: moves the deal, then no longer watched
    poll(context(world, later + 120))
    assert world.deal(deal_id)["STAGE_ID"] == "EXECUTING"
    assert order_ref not in SyncStore(world.table_name, world.dynamodb).manifests.get(OPEN_ORDERS_MANIFEST)


def test_orders_already_old_on_the_first_run_are_found_once(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world)
    with world.onec() as onec:
        onec.update(ORDER_SET, order_ref, {"Date": onec_time(minutes=-60 * 24 * 90)})
    poll(context(world))  # first run: the order is 90 days old
    world.set_state(order_ref, "Завершен")

    poll(context(world))

    assert world.deal(deal_id)["STAGE_ID"] == "EXECUTING"  # the state reached the deal


def _bolt() -> str:
    from sandbox.onec.seed import seed_ref

    return seed_ref("Catalog_Номенклатура", "Болт М10х50")


# -- 6. payment type from 1C's advance sign ------------------------------------------------------
def test_a_payment_1c_marks_as_no_advance_is_a_postpayment_even_without_a_shipment(
    world: PaymentsWorld,
) -> None:
    deal_id, order_ref = linked_deal(world)
    world.pay(order_ref, 1250, advance=False)

    poll(context(world))

    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Постоплата"


def test_an_advance_dated_after_a_shipment_stays_an_advance(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world)
    world.ship(order_ref, date=onec_time(minutes=-30))
    world.pay(order_ref, 1250, advance=True, date=onec_time(minutes=-5))

    poll(context(world))

    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Полная оплата"
    # Without the sign (switched off), the shipment rule makes the same payment a postpayment.
    ctx = context(world)
    without = replace(ctx, options=PaymentsMapping(use_advance_sign=False))
    recompute_order(without, order_ref, ctx.resolved.load())
    assert world.shown(deal_id, "UF_CRM_1C_PAY_TYPE") == "Постоплата"


# -- 7. the registry list out of the box ---------------------------------------------------------
def test_setup_creates_the_registry_list_once(world: PaymentsWorld) -> None:
    world.setup()  # a second run finds the list and its fields
    lists = world.rest.call("lists.get", {"IBLOCK_TYPE_ID": "lists"})
    assert [entry["NAME"] for entry in lists] == ["Реестр оплат"]
    where = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": lists[0]["ID"]}
    names = sorted(f["NAME"] for f in world.rest.call("lists.field.get", where).values())
    assert names == sorted(
        [
            "Название",
            "Сделка",
            "Номер заказа",
            "Дата оплаты",
            "Тип оплаты",
            "Сумма",
            "Способ оплаты",
            "Комментарий",
            "Документ 1С (ключ)",
            "Состояние",
        ]
    )


def test_each_payment_is_one_registry_element_withdrawn_when_unposted(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world)
    payment = world.pay(order_ref, 500, comment="Аванс")
    ctx = context(world)
    poll(ctx)
    [element] = world.registry_elements()
    number = world.order_number(order_ref)
    assert element["CODE"] == payment
    assert element["Сделка"] == str(deal_id)
    assert element["Номер заказа"] == number
    assert element["Сумма"] == "500.00"
    assert element["Тип оплаты"] == "Предоплата"
    assert element["Способ оплаты"] == "Безналичный расчет"
    assert element["Комментарий"] == "Аванс"
    assert element["Документ 1С (ключ)"] == payment
    assert element["Состояние"] == "Проведена"
    assert element["Дата оплаты"] == datetime.strptime(onec_time()[:10], "%Y-%m-%d").strftime("%d.%m.%Y")

    world.unpost(payment)
    poll(ctx)
    [withdrawn] = world.registry_elements()
    assert withdrawn["Состояние"] == "Отменена в 1С"
    assert withdrawn["Сумма"] == "500.00"  # the rest of the element is kept

    world.repost(payment)
    poll(ctx)
    poll(ctx)
    [again] = world.registry_elements()
    assert again["Состояние"] == "Проведена"


def test_a_business_process_stays_available_as_a_setting(
    servers: tuple[RunningServer, RunningServer],
    sync_table: str,
    dynamodb: Any,
) -> None:
    options = PaymentsMapping(registry=RegistryOptions(bizproc_template_id=7))
    world = make_world(servers, sync_table, dynamodb, options)
    _, order_ref = linked_deal(world)
    world.pay(order_ref, 500)

    poll(context(world))

    assert len(world.workflows()) == 1
    assert world.rest.call("lists.get", {"IBLOCK_TYPE_ID": "lists"}) == []
