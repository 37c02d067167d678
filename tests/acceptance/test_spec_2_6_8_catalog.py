"""§2.6.8: after a sync, Bitrix24's products show 1C's nomenclature with quantities (full local stack).

The real CatalogSyncFunction, StockSyncFunction and StockRefreshFunction run in their own
processes against both emulators and moto; every Bitrix24 write is checked in the emulator's call
journal.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.catalog.setup import setup as catalog_setup
from bridge.setup import run_steps
from sandbox.demo_steps.deal_world import stack_ports
from sandbox.local import LocalStack, LocalStackConfig
from sandbox.onec.seed import NOMENCLATURE_FOLDERS, NOMENCLATURE_ITEMS, seed_ref
from sandbox.template import ROOT, TEMPLATE_PATH

pytestmark = pytest.mark.acceptance

NOMENCLATURE = "Catalog_Номенклатура"
TOKEN = "acceptance-stock-refresh-token"
WRITE_VERBS = ("add", "update", "delete", "set", "modify", "conduct", "cancel")
FRAGMENT = ROOT / ".work" / "template-catalog.yaml"


def catalog_template(directory: Path) -> Path:
    """template.yaml itself once the catalog resources are merged; until then a copy with them."""
    text = TEMPLATE_PATH.read_text("utf-8")
    if "CatalogSyncFunction:" in text:
        return TEMPLATE_PATH
    fragment = FRAGMENT.read_text("utf-8")
    merged = text.replace("\nOutputs:", "\n" + fragment + "\nOutputs:", 1)
    # The copy lives elsewhere: point every local path back at the project.
    merged = re.sub(r"(CodeUri|ContentUri): (\S+/)", lambda m: f"{m[1]}: {ROOT / m[2]}/", merged)
    path = directory / "template.yaml"
    path.write_text(merged, "utf-8")
    return path


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = LocalStackConfig.ephemeral(
        moto_url=moto_endpoint,
        prefix=f"t{uuid.uuid4().hex[:6]}-",
        schedules=False,
        pollers=False,
        template_path=catalog_template(tmp_path_factory.mktemp("catalog")),
        extra_env={"BRIDGE_STOCK_REFRESH_TOKEN": TOKEN},
    )
    with LocalStack(config) as running:
        yield running


class World:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        assert stack.b24 is not None
        assert stack.onec is not None
        self.b24_url = stack.b24.url
        self.onec_url = stack.onec.url

    def reset(self) -> None:
        httpx.post(f"{self.b24_url}/_sandbox/reset").raise_for_status()
        httpx.post(f"{self.onec_url}/_sandbox/reset").raise_for_status()
        dynamodb = self.stack.client("dynamodb")
        for table in self.stack.model.tables.values():
            for page in dynamodb.get_paginator("scan").paginate(TableName=table.name):
                for item in page["Items"]:
                    dynamodb.delete_item(TableName=table.name, Key={"pk": item["pk"], "sk": item["sk"]})

    def setup(self) -> None:
        """Setup runs before the flows (a Lambda never sets itself up): the catalog's step, as deployed."""
        report = run_steps([("catalog", catalog_setup)], stack_ports(self.stack), dry_run=False)
        assert report.ok, report.lines()

    def invoke(self, function: str) -> dict[str, Any]:
        answer = httpx.post(f"{self.stack.api_url}/_local/invoke/{function}", json={}, timeout=120)
        assert "x-amz-function-error" not in answer.headers, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def run(self) -> None:
        self.invoke("CatalogSyncFunction")
        self.invoke("StockSyncFunction")

    def table(self, name: str) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.b24_url}/_sandbox/tables/{name}").json())

    def products(self) -> dict[str, dict[str, Any]]:
        return {p["xmlId"]: p for p in self.table("products")}

    def b24(self, method: str, params: dict[str, Any]) -> Any:
        answer = httpx.post(f"{self.b24_url}/rest/1/sandbox/{method}", json=params, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    def article(self, product_id: int) -> Any:
        """What a Bitrix24 user sees in the product card's "Артикул" property."""
        found = self.b24("catalog.productProperty.list", {"filter": {"name": "Артикул"}})
        properties = found["productProperties"]
        assert len(properties) == 1, properties
        value = self.b24("catalog.product.get", {"id": product_id})["product"][
            f"property{properties[0]['id']}"
        ]
        return value["value"] if value else None

    def seq(self) -> int:
        return int(httpx.get(f"{self.b24_url}/_sandbox/calls").json()["cursor"])

    def writes(self, since: int) -> list[tuple[str, int]]:
        calls = httpx.get(f"{self.b24_url}/_sandbox/calls", params={"since": since}).json()["calls"]
        return sorted(
            (c["method"], int(c["params"]["id"]))
            for c in calls
            if c["method"] != "batch" and c["method"].rsplit(".", 1)[-1] in WRITE_VERBS
        )

    def section_path(self, section_id: int | None) -> list[str]:
        sections = {s["id"]: s for s in self.table("sections")}
        path: list[str] = []
        while section_id:
            path.insert(0, sections[section_id]["name"])
            section_id = sections[section_id]["iblockSectionId"]
        return path

    def odata(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        url = f"{self.onec_url}/unf/odata/standard.odata/{path}?$format=json"
        answer = httpx.request(method, url, json=body, auth=("odata", "odata"), timeout=10)
        assert answer.is_success, answer.text

    def onec_sandbox(self, path: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.onec_url}/_sandbox/{path}", json=body, timeout=10).raise_for_status()


@pytest.fixture
def world(stack: LocalStack) -> World:
    world = World(stack)
    world.reset()
    world.setup()
    return world


def ref(name: str) -> str:
    return seed_ref(NOMENCLATURE, name)


def folder_path(folder: str) -> list[str]:
    parents = dict(NOMENCLATURE_FOLDERS)
    path: list[str] = []
    while folder:
        path.insert(0, folder)
        folder = parents[folder]
    return path


def test_every_1c_item_is_a_product_in_its_nested_section_with_article_name_price_and_quantity(
    world: World,
) -> None:
    world.run()

    products = world.products()
    prices = {p["productId"]: p["price"] for p in world.table("prices")}
    assert len(products) == len(NOMENCLATURE_ITEMS)
    for name, parent, article, _, _, price, main_qty, second_qty in NOMENCLATURE_ITEMS:
        product = products[ref(name)]
        assert (product["name"], world.article(product["id"]), product["detailText"]) == (name, article, name)
        assert world.section_path(product["iblockSectionId"]) == folder_path(parent)
        assert prices[product["id"]] == price
        assert product["quantity"] == main_qty + second_qty


def test_each_change_in_1c_reaches_bitrix24_after_one_run_and_nothing_else_is_written(world: World) -> None:
    world.run()
    before = world.products()
    bolt, nut, washer = ref("Болт М10х50"), ref("Гайка М10"), ref("Шайба 10")
    pipe, sheet, angle = ref("Труба круглая 57х3,5"), ref("Лист оцинкованный 0,5 мм"), ref("Уголок 50х50х5")
    world.onec_sandbox("prices", {"Номенклатура_Key": bolt, "Цена": 13.75})
    world.odata("PATCH", f"{NOMENCLATURE}(guid'{nut}')", {"Description": "Гайка М10 оцинкованная"})
    main = seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
    world.onec_sandbox(
        "stock", {"Номенклатура_Key": washer, "СтруктурнаяЕдиница_Key": main, "Количество": 7000}
    )
    world.odata("PATCH", f"{NOMENCLATURE}(guid'{pipe}')", {"Parent_Key": ref("Листы")})
    world.odata("PATCH", f"{NOMENCLATURE}(guid'{sheet}')", {"DeletionMark": True})
    world.odata("DELETE", f"{NOMENCLATURE}(guid'{angle}')")
    seq = world.seq()

    world.run()

    price_id = next(p["id"] for p in world.table("prices") if p["productId"] == before[bolt]["id"])
    assert world.writes(seq) == sorted(
        [
            ("catalog.price.update", price_id),
            ("catalog.product.update", before[nut]["id"]),
            ("catalog.product.update", before[washer]["id"]),
            ("catalog.product.update", before[pipe]["id"]),
            ("catalog.product.update", before[sheet]["id"]),
            ("catalog.product.delete", before[angle]["id"]),
        ]
    )
    after = world.products()
    assert next(p["price"] for p in world.table("prices") if p["id"] == price_id) == 13.75
    assert after[nut]["name"] == "Гайка М10 оцинкованная"
    assert after[washer]["quantity"] == 7000 + 1500
    assert world.section_path(after[pipe]["iblockSectionId"]) == folder_path("Листы")
    assert after[sheet]["active"] == "N"
    assert angle not in after


def test_a_second_run_with_nothing_changed_makes_zero_bitrix24_writes(world: World) -> None:
    world.run()
    seq = world.seq()

    world.run()

    assert world.writes(seq) == []


def test_with_inventory_management_on_stock_arrives_through_inventory_documents(world: World) -> None:
    httpx.post(f"{world.b24_url}/_sandbox/inventory", json={"enabled": True}).raise_for_status()
    world.setup()  # inventory management is found by setup (stock mode "documents")

    world.run()

    products = world.products()
    for name, *_, main_qty, second_qty in NOMENCLATURE_ITEMS:
        assert products[ref(name)]["quantity"] == main_qty + second_qty
    documents = world.table("documents")
    assert documents
    assert all(d["status"] == "Y" for d in documents)
    calls = httpx.get(f"{world.b24_url}/_sandbox/calls").json()["calls"]
    assert not any(c["method"] == "catalog.product.update" for c in calls)


def test_post_stock_refresh_needs_the_shared_secret_and_refreshes_the_given_products(world: World) -> None:
    world.run()
    bolt = ref("Болт М10х50")
    second = seed_ref("Catalog_СтруктурныеЕдиницы", "Склад №2")
    world.onec_sandbox("stock", {"Номенклатура_Key": bolt, "СтруктурнаяЕдиница_Key": second, "Количество": 1})
    product_id = world.products()[bolt]["id"]
    url = f"{world.stack.api_url}/stock/refresh"
    seq = world.seq()

    refused = httpx.post(url, json={"product_ids": [product_id]}, headers={"x-bridge-token": "wrong"})
    assert refused.status_code == 401
    assert world.writes(seq) == []

    accepted = httpx.post(
        url, json={"product_ids": [product_id]}, headers={"x-bridge-token": TOKEN}, timeout=60
    )

    assert accepted.status_code == 200, accepted.text
    assert world.writes(seq) == [("catalog.product.update", product_id)]
    assert world.products()[bolt]["quantity"] == 2000 + 1


def test_the_demo_step_shows_the_catalog_and_the_two_writes_of_two_changes(world: World) -> None:
    from sandbox.demo_steps import catalog

    lines: list[str] = []

    catalog.run(world.stack, lines.append)

    assert any("Болт М10х50 [БМ-1050] price 12.5 qty 2500" in line for line in lines)
    assert "catalog: 2 write(s) for 2 changes; a run with nothing changed writes nothing" in lines
