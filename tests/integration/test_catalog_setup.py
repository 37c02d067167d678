"""The catalog setup step against the emulators: ids resolved, stock path chosen, problems named."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.catalog.setup import setup
from bridge.config.mapping import Mapping
from bridge.setup import SetupProblem
from tests.harness.catalog_world import World, start_world

pytestmark = pytest.mark.integration


@pytest.fixture
def world(sync_table: str, dynamodb: Any) -> Iterator[World]:
    yield from start_world(sync_table, dynamodb)


def test_setup_creates_the_article_property_and_says_where_stock_and_article_go(world: World) -> None:
    lines = setup(world.ports, dry_run=False)

    resolved = world.store.find()
    assert resolved is not None
    assert (resolved.iblock_id, resolved.price_type_id, resolved.stock_mode) == (23, 1, "quantity")
    created = world.b24("catalog.productProperty.list", {"filter": {"iblockId": 23}})["productProperties"]
    assert [(p["name"], p["code"], p["propertyType"]) for p in created] == [("Артикул", "ARTICLE", "S")]
    assert resolved.article_key == f"property{created[0]['id']}"
    text = "\n".join(str(line) for line in lines)
    assert "product quantity" in text
    assert f"created product property 'Артикул' (property{created[0]['id']})" in text


def test_a_second_setup_reuses_the_existing_property(world: World) -> None:
    setup(world.ports, dry_run=False)
    first = world.store.find()
    seq = world.b24_seq()

    lines = setup(world.ports, dry_run=False)

    assert world.store.find() == first
    assert world.b24_writes(seq) == []
    assert any("is property" in str(line) for line in lines)


def test_without_property_methods_setup_falls_back_to_the_code_field(world: World) -> None:
    world.without_property_methods()

    lines = setup(world.ports, dry_run=False)

    resolved = world.store.find()
    assert resolved is not None
    assert resolved.article_key == "code"
    assert "no catalog.productProperty.* methods" in "\n".join(str(line) for line in lines)


def test_with_inventory_management_setup_chooses_documents_into_a_store(world: World) -> None:
    world.inventory(True)

    setup(world.ports, dry_run=False)

    resolved = world.store.find()
    assert resolved is not None
    assert (resolved.stock_mode, resolved.store_id) == ("documents", 1)


def test_a_dry_run_stores_nothing(world: World) -> None:
    seq = world.b24_seq()

    lines = setup(world.ports, dry_run=True)

    assert world.store.find() is None
    assert world.b24_writes(seq) == []
    assert any("would create product property 'Артикул'" in str(line) for line in lines)


@pytest.fixture
def misconfigured(sync_table: str, dynamodb: Any) -> Iterator[World]:
    mapping = Mapping.model_validate({"onec": {"price_kind": "Нет такой", "warehouses": ["Склад X"]}})
    yield from start_world(sync_table, dynamodb, mapping)


def test_unknown_names_are_problems_with_a_fix_and_nothing_is_stored(misconfigured: World) -> None:
    lines = setup(misconfigured.ports, dry_run=False)

    problems = [line for line in lines if isinstance(line, SetupProblem)]
    assert {p.what for p in problems} == {
        "1C price kind 'Нет такой' not found",
        "1C warehouse 'Склад X' not found",
    }
    assert misconfigured.store.find() is None


def test_setup_does_not_call_a_catalog_empty_that_synctable_remembers_products_of(world: World) -> None:
    """Products deleted by hand in Bitrix24 after a first load: the next load must look them up
    by xmlId, not trust an "empty" finding (the manifest is read with the one item it needs)."""
    from bridge.catalog.model import MANIFEST_ITEMS
    from bridge.catalog.resolved import empty_at_setup

    world.ports.store.manifests.put_entries(
        MANIFEST_ITEMS, {"4f1c2a3e-0000-0000-0000-000000000001": "7|v|fp"}, ()
    )

    lines = setup(world.ports, dry_run=False)

    assert "catalog: already holds products or sections; the first load adopts them by xmlId" in lines
    found = empty_at_setup(world.ports.store).find()
    assert found is not None
    assert found.used is True
