"""The deal flow in-process against both emulators over HTTP and a moto SyncTable."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, cast

import pytest

from bridge.catalog.setup import setup as catalog_setup
from bridge.deals.flow import sync_deal
from bridge.deals.setup import setup as deal_setup
from bridge.store import B24Ref
from sandbox.world.deals import World
from sandbox.world.rest import B24Rest
from tests.harness.deal_world import new_deal, onec, orders_for, ports, ready, seed

pytestmark = pytest.mark.integration


@pytest.fixture
def world(running: World) -> World:
    return ready(running, ("deals", deal_setup), ("catalog", catalog_setup))


def test_new_deal_creates_one_order_with_counterparty_and_writes_back(world: World) -> None:
    deal_id = new_deal(world)
    note = sync_deal(deal_id, ports(world))
    assert "created" in note
    (order,) = orders_for(world, deal_id)
    assert order["Date"] == "2024-09-02T00:00:00"
    assert order["Комментарий"] == "Доставка до 10:00"
    assert order["Запасы"][0]["Количество"] == 10
    counterparty = onec(world, f"Catalog_Контрагенты(guid'{order['Контрагент_Key']}')")
    assert (counterparty["ИНН"], counterparty["КПП"]) == ("7712345678", "771201001")
    (folder,) = onec(world, "Catalog_Контрагенты", **{"$filter": "Description eq 'Битрикс24'"})["value"]
    assert folder["IsFolder"]
    assert counterparty["Parent_Key"] == folder["Ref_Key"]
    people = onec(
        world, "Catalog_КонтактныеЛица", **{"$filter": f"Owner_Key eq guid'{counterparty['Ref_Key']}'"}
    )
    assert [p["Description"] for p in people["value"]] == ["Сидоров Пётр"]
    assert counterparty["КонтактноеЛицо_Key"] == people["value"][0]["Ref_Key"]
    employees = seed(world)["Catalog_Сотрудники"]
    assert order["Ответственный_Key"] in employees.values()
    deal = B24Rest(world.b24_webhook_url).call("crm.deal.get", {"id": deal_id})
    assert deal["UF_CRM_1C_ORDER_NO"] == order["Number"]
    assert deal["UF_CRM_1C_ORDER_REF"] == order["Ref_Key"]


def test_replayed_and_out_of_order_events_leave_one_order(world: World) -> None:
    deal_id = new_deal(world)
    notes = [sync_deal(deal_id, ports(world)) for _ in range(3)]
    assert "created" in notes[0]
    assert all(n.startswith("nothing") for n in notes[1:])
    assert len(orders_for(world, deal_id)) == 1


def test_crash_after_the_1c_create_is_recovered_without_a_second_order(world: World) -> None:
    deal_id = new_deal(world)
    real = ports(world).store

    class CrashingLinks:
        def __getattr__(self, name: str) -> Any:
            return getattr(real.links, name)

        def link(self, b24: B24Ref, *args: Any, **kwargs: Any) -> Any:
            if b24.entity == "DEAL":
                raise RuntimeError("worker died after the 1C create")
            return real.links.link(b24, *args, **kwargs)

    crashing_store = copy.copy(real)
    crashing_store.links = cast(Any, CrashingLinks())  # duck-typed stand-in for the LinkStore
    crashing = replace(ports(world), store=crashing_store)
    with pytest.raises(RuntimeError):
        sync_deal(deal_id, crashing)
    assert len(orders_for(world, deal_id)) == 1
    note = sync_deal(deal_id, ports(world))
    assert "found" in note
    assert len(orders_for(world, deal_id)) == 1
    assert real.links.find_by_b24(B24Ref(entity="DEAL", id=str(deal_id))) is not None


def test_unmatched_product_comments_once_and_creates_nothing(world: World) -> None:
    rest = B24Rest(world.b24_webhook_url)
    product_id = rest.product("Самодельная деталь", "")
    company, contact = rest.company_with_contact("Дельта ООО", "7799999999", "779901001")
    deal_id = rest.deal(
        "Без номенклатуры",
        rest.stage_id("Продажи", "Продажа материала"),
        company,
        contact,
        [{"PRODUCT_ID": product_id, "PRODUCT_NAME": "Самодельная деталь", "PRICE": 10, "QUANTITY": 1}],
    )
    first = sync_deal(deal_id, ports(world))
    second = sync_deal(deal_id, ports(world))
    assert first.startswith("not created")
    assert second.startswith("not created")
    assert orders_for(world, deal_id) == []
    comments = rest.call(
        "crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}
    )
    texts = [c["COMMENT"] for c in comments]
    assert len(texts) == 1
    assert "«Самодельная деталь»" in texts[0]


def test_won_deal_completes_the_order_and_creates_a_shipment(world: World) -> None:
    deal_id = new_deal(world)
    sync_deal(deal_id, ports(world))
    rest = B24Rest(world.b24_webhook_url)
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    note = sync_deal(deal_id, ports(world))
    assert "completed" in note
    (order,) = orders_for(world, deal_id)
    states = seed(world)["Catalog_СостоянияЗаказовПокупателей"]
    assert order["СостояниеЗаказа"] == states["Завершен"]
    assert order["ВариантЗавершения"] == "Успешно"
    shipments = onec(
        world,
        "Document_РасходнаяНакладная",
        **{"$filter": f"Заказ eq cast(guid'{order['Ref_Key']}', 'Document_ЗаказПокупателя')"},
    )["value"]
    assert len(shipments) == 1
    assert shipments[0]["Posted"] is False
    assert shipments[0]["Запасы"][0]["Количество"] == 10
    assert sync_deal(deal_id, ports(world)).startswith("nothing")


def test_lost_deal_cancels_the_order(world: World) -> None:
    deal_id = new_deal(world)
    sync_deal(deal_id, ports(world))
    B24Rest(world.b24_webhook_url).call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "LOSE"}})
    assert "cancelled" in sync_deal(deal_id, ports(world))
    (order,) = orders_for(world, deal_id)
    assert order["СостояниеЗаказа"] == seed(world)["Catalog_СостоянияЗаказовПокупателей"]["Отменен"]


def test_out_of_stock_deal_is_copied_to_the_materials_funnel(world: World) -> None:
    deal_id = new_deal(world, quantity=100_000)
    note = sync_deal(deal_id, ports(world))
    assert "copied" in note
    assert orders_for(world, deal_id) == []
    rest = B24Rest(world.b24_webhook_url)
    materials = rest.stage_id("Заказ материала", "Новая")
    copies = rest.call(
        "crm.deal.list", {"filter": {"CATEGORY_ID": materials[0]}, "select": ["ID", "STAGE_ID", "COMMENTS"]}
    )
    assert len(copies) == 1
    assert f"#{deal_id}" in copies[0]["COMMENTS"]
    rows = rest.call("crm.deal.productrows.get", {"id": copies[0]["ID"]})
    assert [float(r["QUANTITY"]) for r in rows] == [100_000]
    assert sync_deal(deal_id, ports(world)).startswith("nothing")
    assert "created" in sync_deal(int(copies[0]["ID"]), ports(world))


def test_editing_the_deal_updates_the_same_order(world: World) -> None:
    deal_id = new_deal(world)
    sync_deal(deal_id, ports(world))
    rest = B24Rest(world.b24_webhook_url)
    rows = rest.call("crm.deal.productrows.get", {"id": deal_id})
    rows.append({**rows[0], "QUANTITY": 3, "ID": None})
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Новый комментарий"}})
    rest.call(
        "crm.deal.productrows.set",
        {
            "id": deal_id,
            "rows": [
                {
                    k: v
                    for k, v in r.items()
                    if k in ("PRODUCT_ID", "PRODUCT_NAME", "PRICE", "QUANTITY", "MEASURE_CODE")
                }
                for r in rows
            ],
        },
    )
    assert "updated" in sync_deal(deal_id, ports(world))
    (order,) = orders_for(world, deal_id)
    assert order["Комментарий"] == "Новый комментарий"
    assert [r["Количество"] for r in order["Запасы"]] == [10, 3]
    assert sync_deal(deal_id, ports(world)).startswith("nothing")


def test_changed_product_rows_refresh_those_products_stock_at_once(world: World) -> None:
    # §2.2.11.3.6 "при обращении к товарам в Б24": the deal event refreshes its products' stock.
    deal_id = new_deal(world)
    sync_deal(deal_id, ports(world))
    rest = B24Rest(world.b24_webhook_url)
    rows = rest.call("crm.deal.productrows.get", {"id": deal_id})
    keep = ("PRODUCT_ID", "PRODUCT_NAME", "PRICE", "QUANTITY", "MEASURE_CODE")
    rest.call(
        "crm.deal.productrows.set",
        {"id": deal_id, "rows": [{**{k: rows[0][k] for k in keep}, "QUANTITY": 12}]},
    )
    product_id = int(rows[0]["PRODUCT_ID"])
    assert float(rest.call("catalog.product.get", {"id": product_id})["product"]["quantity"] or 0) == 0

    assert "updated" in sync_deal(deal_id, ports(world))

    bolt = seed(world)["Catalog_Номенклатура"]["Болт М10х50"]
    balance = ports(world).onec.balance(
        "AccumulationRegister_ЗапасыНаСкладах", condition=f"Номенклатура_Key eq guid'{bolt}'"
    )
    in_1c = sum(float(row["КоличествоBalance"]) for row in balance)
    assert in_1c > 0
    assert float(rest.call("catalog.product.get", {"id": product_id})["product"]["quantity"]) == in_1c
