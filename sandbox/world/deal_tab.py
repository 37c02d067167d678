"""The «1С» deal tab's scene on a running local stack, shared by the browser test and bench/deal_tab.

Everything goes through the real APIs: the local application is registered in the Bitrix24 emulator
and installed (the emulator POSTs the install request to the stack's `/b24/app/install`, whose page
binds the tab); a deal saved in the trigger stage becomes a 1C order through the deal flow; a
customer's bank receipt against that order is posted in 1C; the bolt gets distinctive free stock in
both warehouses. Opening the tab is then what the emulator's deal card does in a browser.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from bridge.domain.onec_sets import BANK_RECEIPTS, ORDERS
from bridge.onec.client import ODataClient
from bridge.payments.models import ORDER_TYPE
from sandbox.onec.seed import WAREHOUSES, seed_ref
from sandbox.world.rest import B24Rest

if TYPE_CHECKING:
    from sandbox.local.stack import LocalStack

INSTALL_PATH = "/b24/app/install"
TAB_PATH = "/b24/app/deal-tab"
MANAGER = 2  # Мария Иванова, the deal's responsible manager
ADMIN = 1
PRODUCT = "Болт М10х50"
ONEC_USER = ONEC_PASSWORD = "odata"


class Unready(RuntimeError):
    """The stack cannot show the tab (no app route, install did not bind it): says what is missing."""


@dataclass
class TabScene:
    b24_url: str  # the emulator's root, where the deal card is
    app: dict[str, Any]  # the emulator's record of the local application
    deal_id: int
    order_ref: str
    order_number: str
    payment: float
    stock: dict[str, float] = field(default_factory=dict)  # warehouse → free stock in 1C

    def card_url(self, user_id: int = MANAGER) -> str:
        return f"{self.b24_url}/crm/deal/details/{self.deal_id}/?user={user_id}"

    def frame_url(self, user_id: int = MANAGER) -> str:
        query = urlencode({"app": self.app["id"], "deal": self.deal_id, "user": user_id})
        return f"{self.b24_url}/_sandbox/placement-frame?{query}"


def _wait(probe: Any, what: str, timeout: float = 120.0) -> Any:
    # Bounds a broken run only; never what is measured or asserted.
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Unready(f"not reached in {timeout:.0f} s: {what}")
        time.sleep(0.3)


def install_app(stack: LocalStack) -> dict[str, Any]:
    """Register the application with the stack's install handler, install it as the portal admin,
    and finish the install as the page's BX24.installFinish() does. The tab must then be bound."""
    assert stack.b24 is not None
    portal = httpx.Client(base_url=stack.b24.url, timeout=60)
    with portal:
        app = portal.post(
            "/_sandbox/apps",
            json={
                "handler": stack.api_url + INSTALL_PATH,
                "scope": ["crm", "placement", "catalog", "user_brief"],
                "code": "local.deal-tab",
            },
        ).json()
        answer = portal.post(f"/_sandbox/apps/{app['id']}/install", json={"user_id": ADMIN}).json()
        if "error" in answer:
            raise Unready(f"the emulator could not install the application: {answer['error']}")
        response = answer["response"]
        if int(response["status"]) >= 300:
            raise Unready(f"install handler answered {response['status']}: {str(response['body'])[:300]}")
        if "installFinish" in str(response.get("body", "")):
            portal.post(f"/_sandbox/apps/{app['id']}/install-finish")
        app = portal.get(f"/_sandbox/apps/{app['id']}").json()
    if not app["installed"]:
        raise Unready("the install page did not call BX24.installFinish()")
    if not any(b["placement"] == "CRM_DEAL_DETAIL_TAB" for b in app["bindings"]):
        raise Unready(f"install did not bind CRM_DEAL_DETAIL_TAB: bindings {app['bindings']}")
    return dict(app)


def _onec_time(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=3, minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S")


def paid_deal(
    stack: LocalStack,
    app: dict[str, Any],
    *,
    quantity: int = 10,
    payment: float = 120.0,
    stock: tuple[float, float] = (4321.0, 87.0),
    title: str = "Заказ болтов",
) -> TabScene:
    """A deal of the manager that became a 1C order through the deal flow (`quantity` bolts at 15, so
    150.00 for 10), paid in part in 1C, its product with `stock` free in the two warehouses."""
    assert stack.b24 is not None
    assert stack.onec is not None
    rest = B24Rest(stack.b24_webhook_url)
    bolt = seed_ref("Catalog_Номенклатура", PRODUCT)
    product = rest.product(PRODUCT, bolt)
    company, contact = rest.company_with_contact("Гамма ООО", "7712345678", "771201001")
    row = rest.goods_row(product, PRODUCT, quantity)
    deal_id = rest.deal(
        title, rest.stage_id("Продажи", "Продажа материала"), company, contact, [row], assigned=MANAGER
    )
    order_ref = str(
        _wait(
            lambda: rest.call("crm.deal.get", {"id": deal_id}).get("UF_CRM_1C_ORDER_REF"),
            f"the deal flow's order for deal {deal_id}",
        )
    )
    onec = ODataClient(stack.onec_base_url, ONEC_USER, ONEC_PASSWORD, max_attempts=3)
    with onec:
        order = onec.get(ORDERS, order_ref, select="Number,Контрагент_Key")
        receipt = {
            "Date": _onec_time(-1),
            "ВидОперации": "ОтПокупателя",
            "Контрагент_Key": order["Контрагент_Key"],
            "СуммаДокумента": payment,
            "Комментарий": "Оплата по счёту",
            "РасшифровкаПлатежа": [
                {
                    "LineNumber": 1,
                    "СуммаПлатежа": payment,
                    "ПризнакАванса": True,
                    "Заказ": order_ref,
                    "Заказ_Type": ORDER_TYPE,
                }
            ],
        }
        payment_ref = str(onec.create(BANK_RECEIPTS, receipt)["Ref_Key"])
        onec.post_document(BANK_RECEIPTS, payment_ref)
    levels = dict(zip(WAREHOUSES, stock, strict=True))
    set_stock(stack, levels)
    return TabScene(stack.b24.url, app, deal_id, order_ref, str(order["Number"]), payment, levels)


def set_stock(stack: LocalStack, levels: dict[str, float]) -> None:
    """1C's free stock of the bolt per warehouse becomes `levels` (an adjusting movement)."""
    assert stack.onec is not None
    bolt = seed_ref("Catalog_Номенклатура", PRODUCT)
    records = [
        {
            "Номенклатура_Key": bolt,
            "СтруктурнаяЕдиница_Key": seed_ref("Catalog_СтруктурныеЕдиницы", warehouse),
            "Количество": quantity,
        }
        for warehouse, quantity in levels.items()
    ]
    httpx.post(f"{stack.onec.url}/_sandbox/stock", json={"records": records}, timeout=30).raise_for_status()


class _Form(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")


def placement_request(scene: TabScene, user_id: int = MANAGER) -> tuple[str, dict[str, str]]:
    """(action URL, form fields) the card's iframe would submit: a fresh token for `user_id`."""
    page = httpx.get(scene.frame_url(user_id), timeout=30)
    page.raise_for_status()
    form = _Form(page.text)
    if not form.action or "PLACEMENT_OPTIONS" not in form.fields:
        raise Unready(f"the placement frame carries no request: {page.text[:300]}")
    if json.loads(form.fields["PLACEMENT_OPTIONS"]) != {"ID": str(scene.deal_id)}:
        raise Unready("the placement frame names another deal")
    return form.action, form.fields
