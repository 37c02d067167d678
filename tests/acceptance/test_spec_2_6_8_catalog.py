"""§2.6.8: after a sync, Bitrix24's products show 1C's nomenclature with quantities (full local stack).

The real CatalogSyncFunction, StockSyncFunction and StockRefreshFunction run in their own
processes against both emulators and moto; every Bitrix24 write is checked in the emulator's call
journal.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.local import LocalStack
from sandbox.onec.seed import NOMENCLATURE_ITEMS, seed_ref
from sandbox.world import catalog
from tests.harness.catalog_stack import NOMENCLATURE, TOKEN, World, ref, start_stack
from tests.harness.catalog_world import folder_path

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from start_stack(moto_endpoint, tmp_path_factory.mktemp("catalog"))


@pytest.fixture
def world(stack: LocalStack) -> World:
    world = World(stack)
    world.reset()
    world.setup()
    return world


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


def test_the_catalog_the_demo_shows_and_the_two_writes_of_two_changes(world: World) -> None:
    world.run()

    lines = catalog.product_lines(world.b24_url)

    assert any("Болт М10х50 [БМ-1050] price 12.5 qty 2500" in line for line in lines)
    catalog.change_bolt(world.onec_url)
    since = catalog.cursor(world.b24_url)
    world.run()
    assert len(catalog.writes_since(world.b24_url, since)) == 2
