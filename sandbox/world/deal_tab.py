"""The «1С» deal tab on a local stack: install the local application in the Bitrix24 emulator,
open the tab as a user (the emulator POSTs the documented placement request to the stack's
route), press its button. Shared by the acceptance tests, the browser test and the bench.

`paid_deal` builds the browser test's and the bench's scene through the real APIs: a deal saved in
the trigger stage becomes a 1C order through the deal flow; a customer's bank receipt against that
order is posted in 1C; the bolt gets distinctive free stock in both warehouses. Opening the tab is
then what the emulator's deal card (sandbox/b24/card.py) does in a browser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from bridge.domain.onec_sets import BANK_RECEIPTS, ORDERS
from bridge.onec.client import ODataClient
from bridge.payments.models import ORDER_TYPE
from sandbox.onec.seed import WAREHOUSES, seed_ref
from sandbox.world.rest import B24Rest
from sandbox.world.waiting import Unready, eventually

if TYPE_CHECKING:
    from sandbox.local.stack import LocalStack

SCOPE = ["crm", "placement", "user_brief", "catalog"]
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class DealTabApp:
    stack: LocalStack
    app: dict[str, Any]

    @property
    def b24_root(self) -> str:
        assert self.stack.b24 is not None
        return self.stack.b24.url

    @classmethod
    def install(cls, stack: LocalStack, *, admin: int = 1) -> DealTabApp:
        """Register the local application with the stack's install route and install it as an admin
        (the install page binds the tab; `install-finish` is what BX24.installFinish() does)."""
        assert stack.b24 is not None
        root = stack.b24.url
        warm(stack)
        body = {"handler": f"{stack.api_url}/b24/app/install", "scope": SCOPE}
        app = httpx.post(f"{root}/_sandbox/apps", json=body, timeout=30).json()
        answer = httpx.post(f"{root}/_sandbox/apps/{app['id']}/install", json={"user_id": admin}, timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"install failed: HTTP {answer.status_code} {answer.text[:300]}")
        if "installFinish" not in answer.json()["response"]["body"]:
            raise RuntimeError(f"install page did not finish: {answer.json()['response']}")
        httpx.post(f"{root}/_sandbox/apps/{app['id']}/install-finish", timeout=10).raise_for_status()
        return cls(stack, httpx.get(f"{root}/_sandbox/apps/{app['id']}", timeout=10).json())

    def bindings(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(
            f"{self.b24_root}/_sandbox/apps/{self.app['id']}", timeout=10
        ).json()["bindings"]
        return found

    def open(
        self, deal_id: int, *, user_id: int = 1, override: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A user opens the tab: {request: {query, form}, response: {status, headers, body}}."""
        body: dict[str, Any] = {"user_id": user_id, "deal_id": deal_id}
        if override:
            body["override"] = override
        answer = httpx.post(
            f"{self.b24_root}/_sandbox/apps/{self.app['id']}/placements/open", json=body, timeout=60
        )
        answer.raise_for_status()
        opened: dict[str, Any] = answer.json()
        return opened

    def press_resync(self, page: str, **changes: str | None) -> httpx.Response:
        """Submit the page's resync form as the browser would (`changes`: forge or drop a field)."""
        fields = hidden_fields(page)
        for name, value in changes.items():
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value
        return httpx.post(f"{self.stack.api_url}/b24/app/deal-tab/resync", data=fields, timeout=120)


def warm(stack: LocalStack) -> None:
    """Wait out the function's cold start (a busy machine imports for many seconds): the portal
    gives an install page only a few seconds, as Bitrix24 does. An empty POST is a 400."""
    httpx.post(f"{stack.api_url}/b24/app/install", content=b"", timeout=180)


def hidden_fields(page: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in _HIDDEN.findall(page)}


MANAGER = 2  # Мария Иванова, the deal's responsible manager
PRODUCT = "Болт М10х50"
ONEC_USER = ONEC_PASSWORD = "odata"


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


def install_app(stack: LocalStack) -> dict[str, Any]:
    """The application installed (DealTabApp.install) and its tab bound, or Unready saying why."""
    try:
        app = DealTabApp.install(stack).app
    except (RuntimeError, httpx.HTTPError) as error:
        raise Unready(str(error)) from error
    if not app["installed"]:
        raise Unready("the install page did not call BX24.installFinish()")
    if not any(b["placement"] == "CRM_DEAL_DETAIL_TAB" for b in app["bindings"]):
        raise Unready(f"install did not bind CRM_DEAL_DETAIL_TAB: bindings {app['bindings']}")
    return app


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
        eventually(
            lambda: rest.call("crm.deal.get", {"id": deal_id}).get("UF_CRM_1C_ORDER_REF"),
            what=f"the deal flow's order for deal {deal_id}",
            timeout=120.0,
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
