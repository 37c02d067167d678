"""The catalog flow in-process against both emulators and moto: load, changes, reruns, crashes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge.catalog.model import MANIFEST_ITEMS, MANIFEST_PRICES, MANIFEST_STOCK
from bridge.catalog.resolved import EMPTY_FACT_FRESH_S, EmptyAtSetup, empty_at_setup
from bridge.catalog.setup import setup
from bridge.catalog.stock import refresh_stock
from bridge.config.mapping import Mapping
from bridge.domain.onec_sets import NOMENCLATURE
from sandbox.onec.seed import NOMENCLATURE_FOLDERS, NOMENCLATURE_ITEMS, seed_ref
from tests.harness.catalog_world import World, folder_path, start_world

pytestmark = pytest.mark.integration


@pytest.fixture
def world(sync_table: str, dynamodb: Any) -> Iterator[World]:
    yield from start_world(sync_table, dynamodb)


def item_ref(name: str) -> str:
    return seed_ref(NOMENCLATURE, name)


def products_by_ref(world: World) -> dict[str, dict[str, Any]]:
    return {p["xmlId"]: p for p in world.table("products")}


def test_first_run_builds_the_nested_tree_with_every_item(world: World) -> None:
    world.sync()
    world.stock()

    products = products_by_ref(world)
    prices = {p["productId"]: p["price"] for p in world.table("prices")}
    assert len(products) == len(NOMENCLATURE_ITEMS)
    for name, parent, article, _, _, price, main_qty, second_qty in NOMENCLATURE_ITEMS:
        product = products[item_ref(name)]
        assert product["name"] == name
        assert world.article(product["id"]) == article
        assert product["code"] is None  # the fallback field stays untouched
        assert product["detailText"] == name
        assert world.section_path(product["iblockSectionId"]) == folder_path(parent)
        assert prices[product["id"]] == price
        assert product["quantity"] == main_qty + second_qty
    assert {s["xmlId"] for s in world.table("sections")} == {
        seed_ref(NOMENCLATURE, folder) for folder, _ in NOMENCLATURE_FOLDERS
    }


def _assert_tree_sent_at_once(world: World, calls: list[dict[str, Any]], probes: int) -> None:
    section_adds = [c for c in calls if c["method"] == "catalog.section.add"]
    assert len(section_adds) == len(NOMENCLATURE_FOLDERS)
    assert len({c["batch"] for c in section_adds}) == 1  # three levels deep, one request
    assert len(world.table("sections")) == len(NOMENCLATURE_FOLDERS)
    # ...and that request also carries the first products, placed in sections it just created.
    product_batches = {c["batch"] for c in calls if c["method"] == "catalog.product.add"}
    assert section_adds[0]["batch"] in product_batches
    commands = len(NOMENCLATURE_FOLDERS) + 2 * len(NOMENCLATURE_ITEMS)  # a product and its price
    requests = [c for c in calls if c.get("batch") is None]
    assert len(requests) == probes + -(-commands // 50)  # then full batches only
    for name, parent, *_ in NOMENCLATURE_ITEMS:
        assert world.section_path(products_by_ref(world)[item_ref(name)]["iblockSectionId"]) == folder_path(
            parent
        )


def test_a_first_load_right_after_setup_asks_bitrix24_nothing_and_sends_the_tree_at_once(
    world: World,
) -> None:
    world.resolved()  # setup saw the catalog empty a moment ago
    seq = world.b24_seq()

    world.sync()

    calls = world.b24_calls(seq)
    assert [c for c in calls if c["method"].endswith(".list")] == []  # no probe, no xmlId lookups
    _assert_tree_sent_at_once(world, calls, probes=0)


def test_a_first_load_long_after_setup_asks_once_whether_the_catalog_is_still_empty(world: World) -> None:
    world.resolved()
    # An hour and more since setup looked: someone may have added products by hand meanwhile.
    store = world.ports.store
    empty_at_setup(store).save(EmptyAtSetup(checked_at=store.table.clock() - EMPTY_FACT_FRESH_S - 60))
    seq = world.b24_seq()

    world.sync()

    calls = world.b24_calls(seq)
    lists = [c for c in calls if c["method"] == "catalog.product.list"]
    assert len(lists) == 1  # "is there any product?" — and no lookup by xmlId per 50 items
    assert "xmlId" not in lists[0]["params"].get("filter", {})
    _assert_tree_sent_at_once(world, calls, probes=1)


def test_products_added_by_hand_after_setup_are_adopted_by_a_late_first_load(world: World) -> None:
    world.resolved()
    store = world.ports.store
    empty_at_setup(store).save(EmptyAtSetup(checked_at=store.table.clock() - EMPTY_FACT_FRESH_S - 60))
    bolt = item_ref("Болт М10х50")
    added = world.b24(
        "catalog.product.add",
        {"fields": {"iblockId": world.resolved().iblock_id, "name": "Болт (вручную)", "xmlId": bolt}},
    )
    seq = world.b24_seq()

    world.sync()

    creates = [c for c in world.b24_writes(seq) if c["method"] == "catalog.product.add"]
    assert len(creates) == len(NOMENCLATURE_ITEMS) - 1
    assert products_by_ref(world)[bolt]["id"] == int(added["element"]["id"])
    assert len(world.table("products")) == len(NOMENCLATURE_ITEMS)


def test_a_setup_after_a_load_is_never_taken_for_an_empty_catalog(world: World) -> None:
    world.sync()
    # Someone empties the catalog by hand; the next deploy runs setup again; then products come
    # back by hand and SyncTable's manifests are emptied too.
    for product in world.table("products"):
        world.b24("catalog.product.delete", {"id": product["id"]})
    for section in world.table("sections"):
        world.b24("catalog.section.delete", {"id": section["id"]})
    setup(world.ports, dry_run=False)
    bolt = item_ref("Болт М10х50")
    added = world.b24(
        "catalog.product.add",
        {"fields": {"iblockId": world.resolved().iblock_id, "name": "Болт (вручную)", "xmlId": bolt}},
    )
    links = world.ports.store
    for name in (MANIFEST_ITEMS, MANIFEST_PRICES, MANIFEST_STOCK):
        links.manifests.put_entries(name, {}, links.manifests.get(name))

    world.sync()

    assert products_by_ref(world)[bolt]["id"] == int(added["element"]["id"])
    assert len(world.table("products")) == len(NOMENCLATURE_ITEMS)


def test_a_first_load_of_more_items_than_its_first_batch_holds_writes_each_once_with_its_price_and_stock(
    world: World,
) -> None:
    # The first batch goes with the items of a small read of its own; the rest follow the full
    # reads. Every item must arrive once, each with its own price and quantity.
    onec, store_key = world.ports.onec, seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
    added: dict[str, tuple[float, float]] = {}
    for index in range(40):
        ref = str(
            onec.create(
                NOMENCLATURE,
                {
                    "Description": f"Саморез {index}",
                    "Артикул": f"СР-{index:03d}",
                    "ТипНоменклатуры": "Запас",
                    "Parent_Key": seed_ref(NOMENCLATURE, "Крепёж"),
                },
            )["Ref_Key"]
        )
        added[ref] = (float(10 + index), float(100 + index))
        world.onec_sandbox("prices", {"Номенклатура_Key": ref, "Цена": added[ref][0]})
        world.onec_sandbox(
            "stock",
            {"Номенклатура_Key": ref, "СтруктурнаяЕдиница_Key": store_key, "Количество": added[ref][1]},
        )
    world.resolved()
    seq = world.b24_seq()

    world.sync()

    products = world.table("products")
    assert len(products) == len(NOMENCLATURE_ITEMS) + len(added)
    assert len({p["xmlId"] for p in products}) == len(products)
    prices = {p["productId"]: p["price"] for p in world.table("prices")}
    by_ref = products_by_ref(world)
    for ref, (price, quantity) in added.items():
        assert prices[by_ref[ref]["id"]] == price
        assert by_ref[ref]["quantity"] == quantity
        assert world.section_path(by_ref[ref]["iblockSectionId"]) == folder_path("Крепёж")
    commands = len(NOMENCLATURE_FOLDERS) + 2 * len(products)
    requests = [c for c in world.b24_calls(seq) if c.get("batch") is None]
    assert len(requests) == -(-commands // 50)  # the first batch is full although sent early
    seq = world.b24_seq()
    world.sync()
    assert world.b24_writes(seq) == []


def test_a_section_that_fails_beside_the_first_products_is_mended_by_the_next_run(world: World) -> None:
    world.resolved()
    fault = {"method": "catalog.section.add", "count": 1, "error": "ERROR_CORE", "status": 200}
    httpx.post(f"{world.b24_server.url}/_sandbox/faults", json=fault).raise_for_status()

    first = world.sync()
    assert first.failed >= 1  # the section, and whatever could not be written without it

    world.sync()
    products = products_by_ref(world)
    assert len(products) == len(NOMENCLATURE_ITEMS)
    for name, parent, *_ in NOMENCLATURE_ITEMS:
        assert world.section_path(products[item_ref(name)]["iblockSectionId"]) == folder_path(parent)


def test_a_second_run_with_nothing_changed_writes_nothing(world: World) -> None:
    world.sync()
    world.stock()
    seq = world.b24_seq()

    world.sync()
    world.stock()

    assert world.b24_writes(seq) == []


def test_each_change_in_1c_is_one_write_and_nothing_else(world: World) -> None:
    world.sync()
    world.stock()
    products = products_by_ref(world)
    bolt, nut, washer = item_ref("Болт М10х50"), item_ref("Гайка М10"), item_ref("Шайба 10")
    pipe, sheet, angle = (
        item_ref("Труба круглая 57х3,5"),
        item_ref("Лист оцинкованный 0,5 мм"),
        item_ref("Уголок 50х50х5"),
    )
    onec = world.ports.onec
    world.onec_sandbox("prices", {"Номенклатура_Key": bolt, "Цена": 13.75})
    onec.update(NOMENCLATURE, nut, {"Description": "Гайка М10 оцинкованная"})
    world.onec_sandbox(
        "stock",
        {
            "Номенклатура_Key": washer,
            "СтруктурнаяЕдиница_Key": seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад"),
            "Количество": 7000,
        },
    )
    onec.update(NOMENCLATURE, pipe, {"Parent_Key": seed_ref(NOMENCLATURE, "Листы")})
    onec.update(NOMENCLATURE, sheet, {"DeletionMark": True})
    onec.delete(NOMENCLATURE, angle)
    seq = world.b24_seq()

    world.sync()
    world.stock()

    writes = sorted((c["method"], int(c["params"]["id"])) for c in world.b24_writes(seq))
    price_id = next(p["id"] for p in world.table("prices") if p["productId"] == products[bolt]["id"])
    assert writes == sorted(
        [
            ("catalog.price.update", price_id),
            ("catalog.product.update", products[nut]["id"]),
            ("catalog.product.update", products[washer]["id"]),
            ("catalog.product.update", products[pipe]["id"]),
            ("catalog.product.update", products[sheet]["id"]),
            ("catalog.product.delete", products[angle]["id"]),
        ]
    )
    after = products_by_ref(world)
    assert next(p["price"] for p in world.table("prices") if p["id"] == price_id) == 13.75
    assert after[nut]["name"] == "Гайка М10 оцинкованная"
    assert after[washer]["quantity"] == 7000 + 1500
    assert world.section_path(after[pipe]["iblockSectionId"]) == folder_path("Листы")
    assert after[sheet]["active"] == "N"
    assert angle not in after


def test_an_article_changed_in_1c_is_rewritten_in_the_property(world: World) -> None:
    world.sync()
    bolt = item_ref("Болт М10х50")
    world.ports.onec.update(NOMENCLATURE, bolt, {"Артикул": "БМ-1050-Z"})
    seq = world.b24_seq()

    world.sync()

    product_id = products_by_ref(world)[bolt]["id"]
    assert [(c["method"], int(c["params"]["id"])) for c in world.b24_writes(seq)] == [
        ("catalog.product.update", product_id)
    ]
    assert world.article(product_id) == "БМ-1050-Z"


def test_without_property_methods_the_article_goes_to_the_code_field(world: World) -> None:
    world.without_property_methods()

    world.sync()

    products = products_by_ref(world)
    assert len(products) == len(NOMENCLATURE_ITEMS)
    for name, _, article, *_ in NOMENCLATURE_ITEMS:
        product = world.b24("catalog.product.get", {"id": products[item_ref(name)]["id"]})["product"]
        assert product["code"] == article
        assert not any(key.startswith("property") for key in product)


def test_a_moved_group_moves_its_section_and_keeps_the_tree(world: World) -> None:
    world.sync()
    pipes = seed_ref(NOMENCLATURE, "Трубы")
    world.ports.onec.update(NOMENCLATURE, pipes, {"Parent_Key": seed_ref(NOMENCLATURE, "Крепёж")})
    seq = world.b24_seq()

    world.sync()

    writes = world.b24_writes(seq)
    assert [c["method"] for c in writes] == ["catalog.section.update"]
    section = next(s for s in world.table("sections") if s["xmlId"] == pipes)
    assert world.section_path(section["id"]) == ["Материалы", "Крепёж", "Трубы"]
    assert len(world.table("sections")) == len(NOMENCLATURE_FOLDERS)


def test_a_crash_before_recording_resumes_without_duplicates(world: World) -> None:
    world.sync()
    # As if the run died after Bitrix24 created everything but before SyncTable recorded it.
    links = world.ports.store
    for name in (MANIFEST_ITEMS, MANIFEST_PRICES, MANIFEST_STOCK):
        links.manifests.put_entries(name, {}, links.manifests.get(name))
    seq = world.b24_seq()

    report = world.sync()

    assert [c for c in world.b24_writes(seq) if c["method"] == "catalog.product.add"] == []
    assert [c for c in world.b24_writes(seq) if c["method"] == "catalog.price.add"] == []
    assert len(world.table("products")) == len(NOMENCLATURE_ITEMS)
    assert report.counts["products adopted"] == len(NOMENCLATURE_ITEMS)
    seq = world.b24_seq()
    world.sync()
    assert world.b24_writes(seq) == []


def test_dry_run_lists_the_plan_and_writes_nothing(world: World) -> None:
    seq = world.b24_seq()

    report = world.sync(dry_run=True)

    assert world.b24_writes(seq) == []
    assert report.counts["products created"] == len(NOMENCLATURE_ITEMS)
    assert report.counts["sections created"] == len(NOMENCLATURE_FOLDERS)
    assert any("Болт М10х50" in line for line in report.lines)
    assert world.ports.store.manifests.get(MANIFEST_ITEMS) == {}


@pytest.fixture
def world_without_services(sync_table: str, dynamodb: Any) -> Iterator[World]:
    mapping = Mapping.model_validate({"catalog": {"include_services": False}})
    yield from start_world(sync_table, dynamodb, mapping)


def test_services_stay_out_when_the_setting_says_so(world_without_services: World) -> None:
    world_without_services.sync()

    names = {p["name"] for p in world_without_services.table("products")}
    services = {name for name, _, _, kind, *_ in NOMENCLATURE_ITEMS if kind in ("Услуга", "Работа")}
    assert names == {name for name, *_ in NOMENCLATURE_ITEMS} - services


def test_with_inventory_management_stock_arrives_through_conducted_documents(world: World) -> None:
    world.inventory(True)
    world.sync()
    world.stock()

    products = products_by_ref(world)
    for name, *_, main_qty, second_qty in NOMENCLATURE_ITEMS:
        assert products[item_ref(name)]["quantity"] == main_qty + second_qty
    documents = world.table("documents")
    assert documents
    assert all(d["status"] == "Y" for d in documents)
    seq = world.b24_seq()
    washer = item_ref("Шайба 10")
    world.onec_sandbox(
        "stock",
        {
            "Номенклатура_Key": washer,
            "СтруктурнаяЕдиница_Key": seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад"),
            "Количество": 7000,
        },
    )

    world.stock()

    methods = [c["method"] for c in world.b24_writes(seq)]
    assert methods == ["catalog.document.add", "catalog.document.element.add", "catalog.document.conduct"]
    assert products_by_ref(world)[washer]["quantity"] == 7000 + 1500
    assert not any(c["method"] == "catalog.product.update" for c in world.b24_calls(0))


def test_refresh_stock_updates_the_products_of_a_deal_at_once(world: World) -> None:
    world.sync()
    world.stock()
    bolt, nut = item_ref("Болт М10х50"), item_ref("Гайка М10")
    warehouse = seed_ref("Catalog_СтруктурныеЕдиницы", "Склад №2")
    world.onec_sandbox(
        "stock", {"Номенклатура_Key": bolt, "СтруктурнаяЕдиница_Key": warehouse, "Количество": 1}
    )
    world.onec_sandbox(
        "stock", {"Номенклатура_Key": nut, "СтруктурнаяЕдиница_Key": warehouse, "Количество": 2}
    )
    products = products_by_ref(world)
    seq = world.b24_seq()

    report = refresh_stock([products[bolt]["id"]], world.ports, world.resolved())

    writes = world.b24_writes(seq)
    assert [(c["method"], int(c["params"]["id"])) for c in writes] == [
        ("catalog.product.update", products[bolt]["id"])
    ]
    assert products_by_ref(world)[bolt]["quantity"] == 2000 + 1
    assert products_by_ref(world)[nut]["quantity"] == 5000  # not asked for: the schedule brings it
    assert report.counts["quantities written"] == 1
