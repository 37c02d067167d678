"""Issue 14: the «1С» tab in the deal card, on the local stack with both emulators.

The Bitrix24 emulator installs the local application (its install route binds the tab) and opens
the tab as a user would: the documented placement POST to the stack's route. What a manager sees
is asserted on the page; what was read or written, on the emulators' call journals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bridge.domain.onec_sets import STOCK
from bridge.onec.client import ODataClient
from bridge.settings import load_mapping
from sandbox.local import LocalStack
from sandbox.onec.seed import seed_ref
from sandbox.world.deal_tab import DealTabApp, hidden_fields
from sandbox.world.payments import PaymentsWorld
from sandbox.world.rest import B24Rest
from tests.harness.deal_stack import deal_with_new_company, fresh, settled_order

pytestmark = pytest.mark.acceptance


def _calls_since(emulator_root: str, seq: int) -> list[dict[str, Any]]:
    """An emulator's call journal after `seq` (both emulators answer the same `/_sandbox/calls`)."""
    calls: list[dict[str, Any]] = httpx.get(
        f"{emulator_root}/_sandbox/calls", params={"since": seq}, timeout=10
    ).json()["calls"]
    return calls


@dataclass
class Scene:
    stack: LocalStack
    tab: DealTabApp
    deal_id: int
    order: dict[str, Any]

    @property
    def onec_root(self) -> str:
        assert self.stack.onec is not None
        return self.stack.onec.url

    def onec_seq(self) -> int:
        return int(httpx.get(f"{self.onec_root}/_sandbox/calls", timeout=10).json()["last_seq"])

    def onec_calls_since(self, seq: int) -> list[dict[str, Any]]:
        return _calls_since(self.onec_root, seq)

    def b24_seq(self) -> int:
        return int(httpx.get(f"{self.tab.b24_root}/_sandbox/calls", timeout=10).json()["cursor"])

    def b24_calls_since(self, seq: int) -> list[dict[str, Any]]:
        return _calls_since(self.tab.b24_root, seq)


@pytest.fixture(scope="module")
def scene(stack: LocalStack) -> Scene:
    """An installed tab and a deal whose 1C order has a posted bank receipt of 500."""
    fresh(stack)
    rest = B24Rest(stack.b24_webhook_url)
    tab = DealTabApp.install(stack)
    deal_id = deal_with_new_company(stack, rest, quantity=10)
    order = settled_order(stack, deal_id)
    PaymentsWorld.of_stack(stack, load_mapping(None)).pay(order["Ref_Key"], 500, comment="аванс")
    return Scene(stack, tab, deal_id, order)


def page_of(opened: dict[str, Any]) -> tuple[int, str]:
    response = opened["response"]
    return int(response["status"]), str(response["body"])


def test_install_binds_the_tab_to_the_stack_route(scene: Scene) -> None:
    assert [(b["placement"], b["handler"], b["title"]) for b in scene.tab.bindings()] == [
        ("CRM_DEAL_DETAIL_TAB", f"{scene.stack.api_url}/b24/app/deal-tab", "1С")
    ]


def test_a_paid_deal_shows_its_order_payment_and_stock_from_1c(scene: Scene) -> None:
    status, page = page_of(scene.tab.open(scene.deal_id))
    assert status == 200, page
    assert 'id="order"' in page
    assert scene.order["Number"].strip() in page
    assert 'id="payments"' in page
    assert "500,00" in page  # the receipt's amount
    assert "Поступление на счёт №" in page
    assert 'id="stock"' in page
    assert "Болт М10х50" in page
    assert "Основной склад" in page
    assert 'id="journal"' in page
    assert "Синхронизировать сейчас" in page
    fields = hidden_fields(page)
    assert fields["csrf"]
    assert fields["PLACEMENT_OPTIONS"] == json.dumps({"ID": str(scene.deal_id)})


def test_opening_the_tab_after_a_1c_stock_change_writes_the_catalog(scene: Scene) -> None:
    bolt = seed_ref("Catalog_Номенклатура", "Болт М10х50")
    main = seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
    scene.tab.open(scene.deal_id)  # the catalog now holds 1C's figure
    rest = B24Rest(scene.stack.b24_webhook_url)
    product_id = int(rest.call("crm.deal.productrows.get", {"id": scene.deal_id})[0]["PRODUCT_ID"])
    before = Decimal(str(rest.call("catalog.product.get", {"id": product_id})["product"]["quantity"]))
    with ODataClient(scene.stack.onec_base_url, "odata", "odata") as onec:
        rows = onec.balance(
            STOCK, condition=f"Номенклатура_Key eq guid'{bolt}' and СтруктурнаяЕдиница_Key eq guid'{main}'"
        )
    main_before = sum((Decimal(str(r["КоличествоBalance"])) for r in rows), Decimal(0))
    httpx.post(
        f"{scene.onec_root}/_sandbox/stock",
        json={"Номенклатура_Key": bolt, "СтруктурнаяЕдиница_Key": main, "Количество": 1234},
        timeout=10,
    ).raise_for_status()
    since = scene.b24_seq()
    status, page = page_of(scene.tab.open(scene.deal_id))
    assert status == 200, page
    assert "1234" in page.replace("\u202f", "")
    writes = [
        c
        for c in scene.b24_calls_since(since)
        if c["method"].startswith(("catalog.product.update", "catalog.document"))
    ]
    assert writes, "the tab's opening wrote no stock to the Bitrix24 catalog"
    expected = before - main_before + 1234
    assert [
        Decimal(w["params"]["fields"]["quantity"]) for w in writes if w["method"] == "catalog.product.update"
    ] == [expected]


def test_the_button_resyncs_and_shows_the_outcome(scene: Scene) -> None:
    _status, page = page_of(scene.tab.open(scene.deal_id))
    answer = scene.tab.press_resync(page)
    assert answer.status_code == 200, answer.text
    assert 'id="resync-outcome"' in answer.text
    outcome = answer.text.split('id="resync-outcome"', 1)[1].split("</p>", 1)[0]
    assert f"Синхронизировано: заказ 1С № {scene.order['Number'].strip()} обновлён по сделке" in outcome
    # The journal tells it in the same words, newest first.
    journal = answer.text.split('id="journal"', 1)[1]
    assert "Вручную: синхронизация вручную — заказ 1С №" in journal
    assert "Битрикс24: сделка" in journal


@pytest.mark.parametrize(
    ("override", "status"),
    [
        ({"AUTH_ID": "f" * 64}, 401),  # a forged token
        ({"DOMAIN": "evil.bitrix24.ru"}, 403),  # another portal
        ({"member_id": "0" * 32}, 403),
        ({"APPLICATION_TOKEN": "not-the-stored-token"}, 403),
    ],
)
def test_refusals_read_nothing_from_1c(scene: Scene, override: dict[str, str], status: int) -> None:
    before = scene.onec_seq()
    got, page = page_of(scene.tab.open(scene.deal_id, override=override))
    assert got == status, page
    assert 'id="refused"' in page
    assert scene.order["Number"].strip() not in page
    assert scene.onec_calls_since(before) == []


def test_a_user_without_access_to_the_deal_sees_nothing(scene: Scene) -> None:
    httpx.post(f"{scene.tab.b24_root}/_sandbox/deal-access", json={"user_id": 3, "deals": "none"}, timeout=10)
    before = scene.onec_seq()
    got, page = page_of(scene.tab.open(scene.deal_id, user_id=3))
    assert got == 403, page
    assert "нет доступа" in page or "no access" in page
    assert scene.onec_calls_since(before) == []


def test_resync_without_csrf_or_with_another_deals_token_is_refused(scene: Scene) -> None:
    _status, page = page_of(scene.tab.open(scene.deal_id))
    other = json.dumps({"ID": str(scene.deal_id + 1000)})
    before = scene.onec_seq()
    assert scene.tab.press_resync(page, csrf=None).status_code == 403
    assert scene.tab.press_resync(page, csrf="9999999999.deadbeef").status_code == 403
    # The token is bound to its deal: the same page's token for another deal is refused.
    other_deal = scene.tab.press_resync(page, PLACEMENT_OPTIONS=other)
    assert other_deal.status_code == 403
    assert scene.onec_calls_since(before) == []


def test_a_deal_before_its_trigger_stage_says_why_there_is_no_order(scene: Scene) -> None:
    rest = B24Rest(scene.stack.b24_webhook_url)
    company, contact = rest.company_with_contact("Дельта ООО", "7701234567", "770101001")
    deal_id = rest.deal("Предварительный расчёт", rest.stage_id("Продажи", "Новая"), company, contact, [])
    status, page = page_of(scene.tab.open(deal_id))
    assert status == 200, page
    assert 'id="order"' not in page
    no_order = page.split('id="no-order"', 1)[1].split("</section>", 1)[0]
    assert "«Продажа материала» (Продажи)" in no_order
    assert "Переведите сделку на эту стадию" in no_order


def test_tokens_never_reach_the_logs(scene: Scene) -> None:
    opened = scene.tab.open(scene.deal_id)
    auth_id = opened["request"]["form"]["AUTH_ID"]
    application_token = opened["request"]["form"]["APPLICATION_TOKEN"]
    csrf = hidden_fields(page_of(opened)[1])["csrf"]
    scene.tab.press_resync(page_of(opened)[1], csrf="1." + "0" * 64)  # a refusal logs its reason
    logs = "\n".join(line for entry in scene.stack.journal.entries() for line in entry.logs)
    assert "deal tab" in logs  # the function's own lines are there to look at
    for secret in (auth_id, application_token, csrf.split(".")[1]):
        assert secret not in logs


def test_uninstall_unbinds_the_tab(scene: Scene) -> None:
    opened = scene.tab.open(scene.deal_id)  # an administrator's frame, as the portal sends it
    fields = {k: v for k, v in opened["request"]["form"].items() if k != "PLACEMENT_OPTIONS"}
    try:
        answer = httpx.post(
            f"{scene.stack.api_url}/b24/app/uninstall",
            params=opened["request"]["query"],
            data=fields | {"PLACEMENT": "DEFAULT"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert scene.tab.bindings() == []
        refused = httpx.post(
            f"{scene.tab.b24_root}/_sandbox/apps/{scene.tab.app['id']}/placements/open",
            json={"user_id": 1, "deal_id": scene.deal_id},
            timeout=30,
        )
        assert refused.status_code == 404  # nothing bound: the card shows no tab
    finally:  # installing again binds it again (the other tests share the scene, in any order)
        httpx.post(
            f"{scene.tab.b24_root}/_sandbox/apps/{scene.tab.app['id']}/install",
            json={"user_id": 1},
            timeout=60,
        ).raise_for_status()
    assert len(scene.tab.bindings()) == 1
