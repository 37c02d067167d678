"""Issue 10, deal → order: the responsible manager, the amount, VAT, the «Заказ материала» funnel
after its order, and a won deal — each shown by what 1C and the deal's timeline end up with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bridge.catalog.setup import setup as catalog_setup
from bridge.deals.flow import sync_deal
from bridge.deals.setup import setup as deal_setup
from bridge.errors import TransientError
from bridge.ports import Ports
from bridge.setup import run_steps
from sandbox.onec.seed import DEFAULT_EMPLOYEE
from sandbox.world.deals import World
from sandbox.world.rest import B24Rest
from tests.harness.deal_world import new_deal, onec, orders_for, ports, ready, seed

pytestmark = pytest.mark.integration


@pytest.fixture
def world(running: World) -> World:
    return ready(running, ("deals", deal_setup), ("catalog", catalog_setup))


AMOUNT_ITEM = "Товары по сделке Битрикс24"


def rest(world: World) -> B24Rest:
    return B24Rest(world.b24_webhook_url)


def comments(world: World, deal_id: int) -> list[str]:
    return rest(world).comments(deal_id)


def audit_kinds(world: World, deal_id: int) -> list[str]:
    entries = ports(world).store.audit.list(datetime.now(UTC).date())
    return [e.outcome for e in entries if e.subject == f"DEAL-{deal_id}"]


def employee(world: World, name_start: str) -> str:
    return next(ref for name, ref in seed(world)["Catalog_Сотрудники"].items() if name.startswith(name_start))


def the_order(world: World, deal_id: int) -> dict[str, Any]:
    (order,) = orders_for(world, deal_id)
    return order


def with_deal_options(world: World, **options: Any) -> Ports:
    base = ports(world)
    deal = base.mapping.deal.model_copy(update=options)
    return replace(base, mapping=base.mapping.model_copy(update={"deal": deal}))


def bolt_row(world: World, **extra: Any) -> dict[str, Any]:
    product = rest(world).product("Болт М10х50", seed(world)["Catalog_Номенклатура"]["Болт М10х50"])
    return {
        "PRODUCT_ID": product,
        "PRODUCT_NAME": "Болт М10х50",
        "PRICE": 15,
        "QUANTITY": 10,
        "MEASURE_CODE": 796,
        **extra,
    }


def deal_of(
    world: World, rows: list[dict[str, Any]], *, assigned: int = 2, stage: tuple[str, str] | None = None
) -> int:
    api = rest(world)
    company, contact = api.company_with_contact("Гамма ООО", "7712345678", "771201001", assigned=assigned)
    where = api.stage_id(*(stage or ("Продажи", "Продажа материала")))
    return api.deal("Заказ", where, company, contact, rows, assigned=assigned)


# --- 1. Responsible ---------------------------------------------------------------------------------


def test_a_user_without_a_1c_employee_gets_the_default_employee_and_one_comment(world: World) -> None:
    # Bitrix24 user 1 «Алексей Администраторов» (the webhook owner) has no 1C employee.
    deal_id = deal_of(world, [bolt_row(world)], assigned=1)
    assert "created" in sync_deal(deal_id, ports(world))
    order = the_order(world, deal_id)
    assert order["Ответственный_Key"] == seed(world)["Catalog_Сотрудники"][DEFAULT_EMPLOYEE]

    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Правка"}})
    assert "updated" in sync_deal(deal_id, ports(world))
    sync_deal(deal_id, ports(world))

    warnings = [c for c in comments(world, deal_id) if "не найден среди сотрудников 1С" in c]
    assert len(warnings) == 1
    assert "«Алексей Администраторов»" in warnings[0]
    assert "сотрудник по умолчанию" in warnings[0]
    assert "DefaultResponsible" in audit_kinds(world, deal_id)
    assert (
        the_order(world, deal_id)["Ответственный_Key"] == seed(world)["Catalog_Сотрудники"][DEFAULT_EMPLOYEE]
    )


def test_an_order_of_a_new_counterparty_follows_the_deals_responsible_on_every_update(world: World) -> None:
    deal_id = deal_of(world, [bolt_row(world)], assigned=2)
    sync_deal(deal_id, ports(world))
    assert the_order(world, deal_id)["Ответственный_Key"] == employee(world, "Иванова")

    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"ASSIGNED_BY_ID": 3}})
    assert "updated" in sync_deal(deal_id, ports(world))
    assert the_order(world, deal_id)["Ответственный_Key"] == employee(world, "Кузнецов")

    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"ASSIGNED_BY_ID": 4}})
    sync_deal(deal_id, ports(world))
    assert the_order(world, deal_id)["Ответственный_Key"] == employee(world, "Соколова")


def test_an_order_of_a_counterparty_that_existed_in_1c_keeps_its_manager(world: World) -> None:
    alfa_ref = seed(world)["Catalog_Контрагенты"]["Альфа-Строй ООО"]
    alfa = onec(world, f"Catalog_Контрагенты(guid'{alfa_ref}')")
    api = rest(world)
    company, contact = api.company_with_contact("Альфа-Строй ООО", alfa["ИНН"], alfa["КПП"], assigned=4)
    deal_id = api.deal(
        "Альфа", api.stage_id("Продажи", "Продажа материала"), company, contact, [bolt_row(world)], assigned=4
    )
    sync_deal(deal_id, ports(world))
    assert the_order(world, deal_id)["Ответственный_Key"] == alfa["Ответственный_Key"]

    api.call("crm.deal.update", {"id": deal_id, "fields": {"ASSIGNED_BY_ID": 3, "COMMENTS": "Новое"}})
    sync_deal(deal_id, ports(world))
    order = the_order(world, deal_id)
    assert order["Комментарий"] == "Новое"
    assert order["Ответственный_Key"] == alfa["Ответственный_Key"]


# --- 2. Amount and VAT ------------------------------------------------------------------------------


def test_a_deal_without_rows_carries_its_amount_as_the_configured_service(world: World) -> None:
    deal_id = deal_of(world, [])
    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"OPPORTUNITY": 5000}})
    assert "created" in sync_deal(deal_id, ports(world))
    order = the_order(world, deal_id)
    assert order["СуммаДокумента"] == 5000
    (row,) = order["Запасы"]
    assert row["Номенклатура_Key"] == seed(world)["Catalog_Номенклатура"][AMOUNT_ITEM]
    assert (row["Количество"], row["Цена"], row["Всего"]) == (1, 5000, 5000)
    assert row["СтавкаНДС_Key"] == seed(world)["Catalog_СтавкиНДС"]["20%"]
    assert row["СуммаНДС"] == pytest.approx(833.33)

    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"OPPORTUNITY": 7200}})
    assert "updated" in sync_deal(deal_id, ports(world))
    assert [r["Всего"] for r in the_order(world, deal_id)["Запасы"]] == [7200]


def test_a_manual_amount_different_from_the_rows_is_written_as_rows_with_one_comment(world: World) -> None:
    deal_id = deal_of(world, [bolt_row(world)])  # 10 × 15 = 150
    rest(world).call(
        "crm.deal.update", {"id": deal_id, "fields": {"OPPORTUNITY": 200, "IS_MANUAL_OPPORTUNITY": "Y"}}
    )
    sync_deal(deal_id, ports(world))
    assert [r["Всего"] for r in the_order(world, deal_id)["Запасы"]] == [150]
    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Правка"}})
    sync_deal(deal_id, ports(world))

    notes = [c for c in comments(world, deal_id) if "Сумма сделки" in c]
    assert len(notes) == 1
    assert "200,00" in notes[0]
    assert "150,00" in notes[0]
    assert "AmountDiffers" in audit_kinds(world, deal_id)


def test_vat_follows_the_rate_of_each_row(world: World) -> None:
    # Row 1: no rate on the deal row, the nomenclature's 20 % applies; row 2: 10 % written on the row.
    deal_id = deal_of(world, [bolt_row(world), bolt_row(world, TAX_RATE=10, TAX_INCLUDED="Y", PRICE=11)])
    sync_deal(deal_id, ports(world))
    rates = seed(world)["Catalog_СтавкиНДС"]
    first, second = the_order(world, deal_id)["Запасы"]
    assert (first["СтавкаНДС_Key"], first["СуммаНДС"]) == (rates["20%"], 25)  # 150 × 20/120
    assert (second["СтавкаНДС_Key"], second["СуммаНДС"]) == (rates["10%"], 10)  # 110 × 10/110


# --- 3. «Заказ материала» after its order ------------------------------------------------------------


def test_materials_funnel_edits_after_the_order_do_not_reach_1c_but_won_does(world: World) -> None:
    deal_id = deal_of(world, [bolt_row(world)], stage=("Заказ материала", "Новая"))
    assert "created" in sync_deal(deal_id, ports(world))
    api = rest(world)
    api.call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Поставщик подтвердил"}})
    api.call(
        "crm.deal.update",
        {"id": deal_id, "fields": {"STAGE_ID": api.stage_id("Заказ материала", "Заказ у поставщика")[1]}},
    )
    assert sync_deal(deal_id, ports(world)).startswith("nothing: §2.2.8")
    assert the_order(world, deal_id)["Комментарий"] == ""
    assert "NotExchanged" in audit_kinds(world, deal_id)

    api.call(
        "crm.deal.update",
        {"id": deal_id, "fields": {"STAGE_ID": api.stage_id("Заказ материала", "Сделка успешна")[1]}},
    )
    assert "completed" in sync_deal(deal_id, ports(world))
    order = the_order(world, deal_id)
    assert order["СостояниеЗаказа"] == seed(world)["Catalog_СостоянияЗаказовПокупателей"]["Завершен"]


def test_materials_funnel_exchange_can_be_kept_by_setting(world: World) -> None:
    deal_id = deal_of(world, [bolt_row(world)], stage=("Заказ материала", "Новая"))
    exchanging = with_deal_options(world, no_exchange_after_order_funnels=())
    sync_deal(deal_id, exchanging)
    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Поставщик подтвердил"}})
    assert "updated" in sync_deal(deal_id, exchanging)
    assert the_order(world, deal_id)["Комментарий"] == "Поставщик подтвердил"


# --- 4. Won ------------------------------------------------------------------------------------------


def test_a_won_deal_without_an_order_is_reported_once(world: World) -> None:
    deal_id = deal_of(world, [bolt_row(world)], stage=("Продажи", "Новая"))
    assert sync_deal(deal_id, ports(world)).startswith("nothing")
    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    assert sync_deal(deal_id, ports(world)).startswith("reported")
    sync_deal(deal_id, ports(world))

    notes = [c for c in comments(world, deal_id) if "заказа покупателя в 1С по ней нет" in c]
    assert len(notes) == 1
    assert audit_kinds(world, deal_id).count("WonWithoutOrder") == 2
    assert orders_for(world, deal_id) == []


def shipments(world: World, order_ref: str) -> list[dict[str, Any]]:
    flt = f"Заказ eq cast(guid'{order_ref}', 'Document_ЗаказПокупателя')"
    rows: list[dict[str, Any]] = onec(world, "Document_РасходнаяНакладная", **{"$filter": flt})["value"]
    return rows


def fault(world: World, **spec: Any) -> None:
    assert world.onec is not None
    httpx.post(
        world.onec.url + "/_sandbox/faults", json={"kind": "error", "method": "POST", **spec}
    ).raise_for_status()


def clear_faults(world: World) -> None:
    assert world.onec is not None
    httpx.delete(world.onec.url + "/_sandbox/faults").raise_for_status()


def test_a_won_deal_whose_shipment_posting_failed_is_posted_on_the_retry(world: World) -> None:
    posting = with_deal_options(world, post_shipment=True)
    deal_id = new_deal(world)
    sync_deal(deal_id, posting)
    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    # 1C is down for the posting (…/Post on the new shipment): the create worked, the post did not.
    fault(world, path_prefix="Document_РасходнаяНакладная(", status=503, count=20)
    with pytest.raises(TransientError):
        sync_deal(deal_id, posting)
    order = the_order(world, deal_id)
    assert [s["Posted"] for s in shipments(world, order["Ref_Key"])] == [False]
    assert "ShipmentRetry" in audit_kinds(world, deal_id)
    clear_faults(world)

    assert "completed" in sync_deal(deal_id, posting)
    assert [s["Posted"] for s in shipments(world, order["Ref_Key"])] == [True]
    assert sync_deal(deal_id, posting).startswith("nothing")


def test_a_won_deal_whose_shipment_1c_refused_is_told_once_and_retried(world: World) -> None:
    deal_id = new_deal(world)
    sync_deal(deal_id, ports(world))
    rest(world).call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    fault(world, path_prefix="Document_РасходнаяНакладная", status=400, count=2)
    for _ in range(2):
        with pytest.raises(TransientError):  # the queue retries it (then the DLQ and its alarm)
            sync_deal(deal_id, ports(world))
    notes = [c for c in comments(world, deal_id) if "расходная накладная не создана" in c]
    assert len(notes) == 1
    assert "ShipmentFailed" in audit_kinds(world, deal_id)

    assert "shipment" in sync_deal(deal_id, ports(world))
    assert len(shipments(world, the_order(world, deal_id)["Ref_Key"])) == 1


def test_setup_requires_the_default_employee_and_the_amount_service(running: World) -> None:
    running.reset()
    base = ports(running)
    onec_names = base.mapping.onec.model_copy(
        update={"default_responsible": "", "deal_amount_item": "Нет такой услуги"}
    )
    broken = replace(base, mapping=base.mapping.model_copy(update={"onec": onec_names}))
    report = run_steps([("deals", deal_setup)], broken, dry_run=True)
    assert not report.ok
    text = "\n".join(report.lines())
    assert "onec.default_responsible is empty" in text
    assert "'Нет такой услуги'" in text
    assert "onec.deal_amount_item" in text
