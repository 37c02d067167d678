"""Demo of the deal flow (issue 4) on the local stack: a manager's deal becomes a 1C order.

Creates a company (INN, KPP) with a contact and a deal with product rows in the trigger stage
through the Bitrix24 emulator's webhook; the emulator's own events go through the real receiver,
queue and worker. Then shows what exists in each system. `close_won` (run after the payment
step) marks the deal won and shows the order state and the shipment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from sandbox.local import LocalStack
from sandbox.world import onec
from sandbox.world.deals import run_setup
from sandbox.world.rest import B24Rest

WAIT_S = 60.0


def _onec(stack: LocalStack, path: str, **params: str) -> Any:
    return onec.get(stack.onec_base_url, path, **params)


def _wait[T](probe: Callable[[], T | None]) -> T:
    deadline = time.monotonic() + WAIT_S
    while (value := probe()) is None or value == []:
        if time.monotonic() > deadline:
            raise RuntimeError("the deal flow did not finish in time")
        time.sleep(0.5)
    return value


def run(stack: LocalStack, say: Callable[[str], None]) -> None:
    report = run_setup(stack)
    for line in report.lines():
        say(f"setup: {line}")
    rest = B24Rest(stack.b24_webhook_url)
    assert stack.onec is not None
    seed = httpx.get(stack.onec.url + "/_sandbox/seed").json()
    bolt = seed["Catalog_Номенклатура"]["Болт М10х50"]
    product = rest.product("Болт М10х50", bolt)
    company, contact = rest.company_with_contact("Демо-Металл ООО", "7705551234", "770501001")
    stage = rest.stage_id("Продажи", "Продажа материала")
    row = rest.goods_row(product, "Болт М10х50", 40)
    deal_id = rest.deal(
        "Демо: болты", stage, company, contact, [row], comments="Доставка до 10:00", begindate=None
    )
    say(f"Bitrix24: company {company} (ИНН 7705551234, КПП 770501001), contact {contact}")
    say(f"Bitrix24: deal {deal_id} with 40 × Болт М10х50 in «Продажа материала»")

    def with_number() -> dict[str, Any] | None:
        deal = rest.call("crm.deal.get", {"id": deal_id})
        return deal if deal.get("UF_CRM_1C_ORDER_REF") else None

    deal = _wait(with_number)
    order = _onec(stack, f"Document_ЗаказПокупателя(guid'{deal['UF_CRM_1C_ORDER_REF']}')")
    counterparty = _onec(stack, f"Catalog_Контрагенты(guid'{order['Контрагент_Key']}')")
    responsible = _onec(stack, f"Catalog_Сотрудники(guid'{order['Ответственный_Key']}')")
    say(
        f"1C: order № {order['Number']} of {order['Date'][:10]}, sum {order['СуммаДокумента']}, "
        f"comment «{order['Комментарий']}», responsible {responsible['Description']}"
    )
    say(
        f"1C: counterparty «{counterparty['Description']}» "
        f"ИНН {counterparty['ИНН']} КПП {counterparty['КПП']}"
    )
    people = _onec(
        stack, "Catalog_КонтактныеЛица", **{"$filter": f"Owner_Key eq guid'{counterparty['Ref_Key']}'"}
    )
    say(f"1C: contact person(s): {', '.join(p['Description'] for p in people['value'])}")
    say(f"Bitrix24: deal {deal_id} UF_CRM_1C_ORDER_NO={deal['UF_CRM_1C_ORDER_NO']}")
    say(f"Bitrix24: deal {deal_id} UF_CRM_1C_ORDER_REF={deal['UF_CRM_1C_ORDER_REF']}")
    LAST_DEAL[stack.api_url] = deal_id


# The demo's deal, per stack, so the next steps continue the same story (payment, then won).
LAST_DEAL: dict[str, int] = {}


def close_won(stack: LocalStack, say: Callable[[str], None], deal_id: int) -> None:
    """The manager closes the deal as won: the order is completed and a shipment is made (§2.1.1.17)."""
    rest = B24Rest(stack.b24_webhook_url)
    assert stack.onec is not None
    seed = httpx.get(stack.onec.url + "/_sandbox/seed").json()
    order_ref = rest.call("crm.deal.get", {"id": deal_id})["UF_CRM_1C_ORDER_REF"]
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    say(f"Bitrix24: deal {deal_id} moved to WON")
    completed = seed["Catalog_СостоянияЗаказовПокупателей"]["Завершен"]
    flt = f"Заказ eq cast(guid'{order_ref}', 'Document_ЗаказПокупателя')"
    shipments = _wait(
        lambda: _onec(stack, "Document_РасходнаяНакладная", **{"$filter": flt})["value"] or None
    )
    state = _onec(stack, f"Document_ЗаказПокупателя(guid'{order_ref}')")
    state_name = "Завершен" if state["СостояниеЗаказа"] == completed else state["СостояниеЗаказа"]
    say(f"1C: order № {state['Number']} state {state_name}, {state['ВариантЗавершения']}")
    say(f"1C: shipment № {shipments[0]['Number']} (posted: {shipments[0]['Posted']})")
