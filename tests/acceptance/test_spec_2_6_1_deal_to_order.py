"""§2.6.1: a deal saved in the trigger stage becomes exactly one 1C customer order — with its
counterparty (created in the configured folder with a contact person, or the existing one whose
manager then gets the order) — and the order's number and key come back to the deal."""

from __future__ import annotations

import time

import httpx
import pytest

from bridge.deals.sweep import sweep
from bridge.pipeline.queue import SqsEventSender
from sandbox.local import LocalStack
from sandbox.onec.seed import DEFAULT_EMPLOYEE
from sandbox.world.deals import stack_ports
from sandbox.world.rest import B24Rest
from tests.harness.deal_stack import (
    deal_with_new_company,
    fresh,
    onec_get,
    orders_for,
    seed,
    settled_order,
)
from tests.harness.waiting import eventually

pytestmark = pytest.mark.acceptance


@pytest.fixture
def rest(stack: LocalStack) -> B24Rest:
    fresh(stack)
    return B24Rest(stack.b24_webhook_url)


def test_new_company_and_contact_give_one_order_with_everything_filled(
    stack: LocalStack, rest: B24Rest
) -> None:
    deal_id = deal_with_new_company(stack, rest, comments="Доставить до 10:00")
    order = settled_order(stack, deal_id)
    time.sleep(2)  # later events (requisite, rows, our own write-back) must not add a second order
    assert len(orders_for(stack, deal_id)) == 1
    assert order["Date"] == "2024-09-02T00:00:00"
    assert order["Комментарий"] == "Доставить до 10:00"
    managers = seed(stack)["Catalog_Сотрудники"]
    assert order["Ответственный_Key"] == next(
        ref for name, ref in managers.items() if name.startswith("Иванова")
    )
    counterparty = onec_get(stack, f"Catalog_Контрагенты(guid'{order['Контрагент_Key']}')")
    assert (counterparty["ИНН"], counterparty["КПП"]) == ("7712345678", "771201001")
    (folder,) = onec_get(stack, "Catalog_Контрагенты", **{"$filter": "Description eq 'Битрикс24'"})["value"]
    assert folder["IsFolder"]
    assert counterparty["Parent_Key"] == folder["Ref_Key"]
    same_inn = onec_get(stack, "Catalog_Контрагенты", **{"$filter": "ИНН eq '7712345678'"})["value"]
    assert len(same_inn) == 1
    people = onec_get(
        stack, "Catalog_КонтактныеЛица", **{"$filter": f"Owner_Key eq guid'{counterparty['Ref_Key']}'"}
    )["value"]
    assert [p["Description"] for p in people] == ["Сидоров Пётр"]
    deal = rest.call("crm.deal.get", {"id": deal_id})
    assert deal["UF_CRM_1C_ORDER_NO"] == order["Number"]
    comments = rest.call(
        "crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}
    )
    assert any(f"№ {order['Number']} создан в 1С" in c["COMMENT"] for c in comments)


def test_existing_counterparty_gives_the_order_to_its_own_manager(stack: LocalStack, rest: B24Rest) -> None:
    alfa_ref = seed(stack)["Catalog_Контрагенты"]["Альфа-Строй ООО"]
    alfa = onec_get(stack, f"Catalog_Контрагенты(guid'{alfa_ref}')")
    bolt = seed(stack)["Catalog_Номенклатура"]["Болт М10х50"]
    product = rest.product("Болт М10х50", bolt)
    # The deal's responsible (Соколова, user 4) differs from the counterparty's manager.
    company, contact = rest.company_with_contact("Альфа-Строй ООО", alfa["ИНН"], alfa["КПП"], assigned=4)
    row = {
        "PRODUCT_ID": product,
        "PRODUCT_NAME": "Болт М10х50",
        "PRICE": 15,
        "QUANTITY": 5,
        "MEASURE_CODE": 796,
    }
    deal_id = rest.deal(
        "Альфа", rest.stage_id("Продажи", "Продажа материала"), company, contact, [row], assigned=4
    )
    order = settled_order(stack, deal_id)
    assert order["Контрагент_Key"] == alfa_ref
    assert order["Ответственный_Key"] == alfa["Ответственный_Key"]


def test_a_lost_event_is_caught_by_the_sweep(stack: LocalStack, rest: B24Rest) -> None:
    rest.sandbox("/_sandbox/events/pause", "POST", {"drop": True})
    deal_id = deal_with_new_company(stack, rest)
    rest.sandbox("/_sandbox/events", "GET")
    time.sleep(1)
    assert orders_for(stack, deal_id) == []
    rest.sandbox("/_sandbox/events/resume", "POST", {})
    queue_url = next(
        url for name, url in stack.queue_urls.items() if "EventsQueue" in name and "Dead" not in name
    )
    result = sweep(stack_ports(stack), SqsEventSender(stack.client("sqs"), queue_url))
    assert deal_id in result.queued
    order = settled_order(stack, deal_id)
    assert order["Контрагент_Key"]
    assert len(orders_for(stack, deal_id)) == 1


def test_won_deal_completes_the_order_with_a_shipment(stack: LocalStack, rest: B24Rest) -> None:
    deal_id = deal_with_new_company(stack, rest)
    order = settled_order(stack, deal_id)
    # Right after our own write-back, within the same second of Bitrix24's event `ts`: both
    # deliveries must run (two changes, not a duplicate).
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    completed = seed(stack)["Catalog_СостоянияЗаказовПокупателей"]["Завершен"]
    eventually(lambda: orders_for(stack, deal_id)[0]["СостояниеЗаказа"] == completed)
    flt = f"Заказ eq cast(guid'{order['Ref_Key']}', 'Document_ЗаказПокупателя')"
    shipments = eventually(
        lambda: onec_get(stack, "Document_РасходнаяНакладная", **{"$filter": flt})["value"]
    )
    assert len(shipments) == 1


def test_unmatched_product_stops_the_order_with_one_comment(stack: LocalStack, rest: B24Rest) -> None:
    product = rest.product("Самодельная деталь", "")
    company, contact = rest.company_with_contact("Дельта ООО", "7799999999", "779901001")
    row = {"PRODUCT_ID": product, "PRODUCT_NAME": "Самодельная деталь", "PRICE": 10, "QUANTITY": 1}
    deal_id = rest.deal("Деталь", rest.stage_id("Продажи", "Продажа материала"), company, contact, [row])

    def comments() -> list[str]:
        rows = rest.call(
            "crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}
        )
        return [c["COMMENT"] for c in rows]

    eventually(lambda: any("Самодельная деталь" in c for c in comments()))
    httpx.get(stack.b24.url + "/_sandbox/events", params={"wait": 1}) if stack.b24 else None
    time.sleep(2)
    assert sum("Самодельная деталь" in c for c in comments()) == 1
    assert orders_for(stack, deal_id) == []


def test_deal_of_the_webhook_owner_gets_the_default_employee_and_one_comment(
    stack: LocalStack, rest: B24Rest
) -> None:
    # Issue 10: Bitrix24 user 1 «Алексей Администраторов» has no 1C employee; an order is never
    # written without Ответственный, so the configured default employee stands in, and says so once.
    bolt = seed(stack)["Catalog_Номенклатура"]["Болт М10х50"]
    product = rest.product("Болт М10х50", bolt)
    company, contact = rest.company_with_contact("Омега ООО", "7723456789", "772301001", assigned=1)
    row = {
        "PRODUCT_ID": product,
        "PRODUCT_NAME": "Болт М10х50",
        "PRICE": 15,
        "QUANTITY": 4,
        "MEASURE_CODE": 796,
    }
    deal_id = rest.deal(
        "Болты для Омеги",
        rest.stage_id("Продажи", "Продажа материала"),
        company,
        contact,
        [row],
        comments="Позвонить перед отгрузкой",
        assigned=1,
    )
    order = settled_order(stack, deal_id)
    assert order["Ответственный_Key"] == seed(stack)["Catalog_Сотрудники"][DEFAULT_EMPLOYEE]
    assert order["Комментарий"] == "Позвонить перед отгрузкой"
    assert order["Date"] == "2024-09-02T00:00:00"
    assert rest.call("crm.deal.get", {"id": deal_id})["UF_CRM_1C_ORDER_NO"] == order["Number"]

    def warnings() -> list[str]:
        rows = rest.call(
            "crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}
        )
        return [c["COMMENT"] for c in rows if "не найден среди сотрудников 1С" in c["COMMENT"]]

    eventually(warnings)
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Позвонить за час"}})
    eventually(lambda: orders_for(stack, deal_id)[0]["Комментарий"] == "Позвонить за час")
    time.sleep(2)  # the update's own echo events must not repeat the warning
    (warning,) = warnings()
    assert "«Алексей Администраторов»" in warning
    assert len(orders_for(stack, deal_id)) == 1
