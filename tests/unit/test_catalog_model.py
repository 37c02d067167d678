"""Mapping rules of the catalog flow (mappings.md §5)."""

from __future__ import annotations

from decimal import Decimal

from bridge.catalog.model import (
    Item,
    Stored,
    StoredPrice,
    current_prices,
    item_fingerprint,
    product_fields,
    sum_balances,
)
from bridge.catalog.resolved import CatalogResolved

REF = "11111111-1111-1111-1111-111111111111"
PARENT = "22222222-2222-2222-2222-222222222222"
KIND = "33333333-3333-3333-3333-333333333333"
OTHER_KIND = "44444444-4444-4444-4444-444444444444"
MAIN, SECOND = "55555555-5555-5555-5555-555555555555", "66666666-6666-6666-6666-666666666666"
EMPTY = "00000000-0000-0000-0000-000000000000"


def resolved(property_id: int | None = None, warehouses: tuple[str, ...] = ()) -> CatalogResolved:
    return CatalogResolved(
        iblock_id=23,
        price_type_id=1,
        currency="RUB",
        article_property_id=property_id,
        article_field="code",
        stock_mode="quantity",
        store_id=None,
        price_kind_ref=KIND,
        warehouse_refs=warehouses,
    )


def entity(**overrides: object) -> dict[str, object]:
    return {
        "Ref_Key": REF.upper(),
        "DataVersion": "AAAAAAAAAAE=",
        "DeletionMark": False,
        "Description": "Болт М10х50 ",
        "НаименованиеПолное": "Болт М10х50 оцинкованный",
        "Артикул": "БМ-1050",
        "Parent_Key": PARENT,
        "Недействителен": False,
        "ТипНоменклатуры": "Запас",
        **overrides,
    }


def test_product_fields_carry_name_xml_id_article_full_name_and_section() -> None:
    fields = product_fields(Item.from_entity(entity()), resolved(property_id=107), section_id=5)

    assert fields == {
        "iblockId": 23,
        "name": "Болт М10х50",
        "xmlId": REF,
        "iblockSectionId": 5,
        "active": "Y",
        "detailText": "Болт М10х50 оцинкованный",
        "detailTextType": "text",
        "property107": "БМ-1050",
    }


def test_without_a_product_property_the_article_goes_to_the_fallback_field() -> None:
    fields = product_fields(Item.from_entity(entity()), resolved(), section_id=None)

    assert fields["code"] == "БМ-1050"
    assert fields["iblockSectionId"] is None


def test_deletion_mark_or_invalid_flag_make_the_product_inactive_and_empty_values_are_not_sent() -> None:
    for overrides in ({"DeletionMark": True}, {"Недействителен": True}):
        assert product_fields(Item.from_entity(entity(**overrides)), resolved(), None)["active"] == "N"
    blank = product_fields(Item.from_entity(entity(Артикул="", НаименованиеПолное="")), resolved(), None)
    assert "code" not in blank
    assert "detailText" not in blank


def test_an_empty_parent_is_the_top_level() -> None:
    assert Item.from_entity(entity(Parent_Key=EMPTY)).parent is None


def test_fingerprint_ignores_data_version_but_not_the_mapped_fields() -> None:
    base = item_fingerprint(Item.from_entity(entity()), resolved())

    assert item_fingerprint(Item.from_entity(entity(DataVersion="AAAAAAAAAAI=")), resolved()) == base
    assert item_fingerprint(Item.from_entity(entity(Description="Болт")), resolved()) != base
    assert item_fingerprint(Item.from_entity(entity()), resolved(property_id=7)) != base


def test_balances_are_summed_over_the_configured_warehouses_only() -> None:
    rows = [
        {"Номенклатура_Key": REF, "СтруктурнаяЕдиница_Key": MAIN, "КоличествоBalance": 2000},
        {"Номенклатура_Key": REF, "СтруктурнаяЕдиница_Key": SECOND, "КоличествоBalance": 500.5},
        {"Номенклатура_Key": EMPTY, "СтруктурнаяЕдиница_Key": MAIN, "КоличествоBalance": 1},
    ]

    assert sum_balances(rows, ()) == {REF: Decimal("2500.5")}
    assert sum_balances(rows, (MAIN,)) == {REF: Decimal(2000)}


def test_current_prices_take_the_configured_kind_and_the_latest_period() -> None:
    rows = [
        {"Period": "2024-01-01T00:00:00", "ВидЦен_Key": KIND, "Номенклатура_Key": REF, "Цена": 12.5},
        {"Period": "2024-03-01T00:00:00", "ВидЦен_Key": KIND, "Номенклатура_Key": REF, "Цена": 13.75},
        {"Period": "2024-05-01T00:00:00", "ВидЦен_Key": OTHER_KIND, "Номенклатура_Key": REF, "Цена": 99},
    ]

    assert current_prices(rows, KIND) == {REF: Decimal("13.75")}


def test_manifest_values_round_trip() -> None:
    assert Stored.decode(Stored(12, "AAA=|x", "fp").encode()) == Stored(12, "AAA=|x", "fp")
    assert StoredPrice.decode(StoredPrice(None, Decimal("1.50")).encode()) == StoredPrice(
        None, Decimal("1.5")
    )
