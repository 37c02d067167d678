"""catalog.productProperty.* and the `property<ID>` values of products, against the emulator.

The add/list samples (tests/fixtures/b24/catalog.productProperty.*, from b24restdocs
api-reference/catalog/product-property/) are replayed for shape; the rest are behaviour tests
built on README §6.4 and the catalog.product.get sample's `{value, valueId}` form.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.world.rest import B24Rest
from tests.harness.b24 import shape_mismatches

pytestmark = pytest.mark.contract

FIXTURES = Path(__file__).parents[1] / "fixtures" / "b24"
IBLOCK = 23  # the emulator's seeded product catalog
OTHER_IBLOCK = 24  # the seeded variations catalog


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def add_property(rest: B24Rest, **fields: Any) -> dict[str, Any]:
    body = {"iblockId": IBLOCK, "name": "Артикул", "code": "ARTICLE", "propertyType": "S"} | fields
    row: dict[str, Any] = rest.call("catalog.productProperty.add", {"fields": body})["productProperty"]
    return row


def add_product(rest: B24Rest, **fields: Any) -> int:
    body = {"iblockId": IBLOCK, "name": "Шуруп"} | fields
    return int(rest.call("catalog.product.add", {"fields": body})["element"]["id"])


def get_product(rest: B24Rest, product_id: int) -> dict[str, Any]:
    product: dict[str, Any] = rest.call("catalog.product.get", {"id": product_id})["product"]
    return product


# -- documented samples ------------------------------------------------------------------------
def test_add_sample_replays_with_the_documented_shape(rest: B24Rest) -> None:
    body = sample("catalog.productProperty.add.request.json")
    body["fields"]["iblockId"] = IBLOCK
    status, answer = rest.send("catalog.productProperty.add", body)
    assert status == 200, answer
    assert not list(shape_mismatches(sample("catalog.productProperty.add.response.json"), answer))
    created = answer["result"]["productProperty"]
    assert (created["code"], created["propertyType"], created["sort"]) == ("CATEGORY", "S", 100)
    assert created["userTypeSettings"]["tableName"] == "b_hlbd_categories"


def test_list_sample_replays_with_paging(rest: B24Rest) -> None:
    for number in range(51):
        add_property(rest, name=f"Свойство {number}", code=f"P{number}", propertyType="LS"[number % 2])
    body = sample("catalog.productProperty.list.request.json")
    body["filter"]["iblockId"] = IBLOCK
    status, answer = rest.send("catalog.productProperty.list", body)
    assert status == 200, answer
    assert not list(shape_mismatches(sample("catalog.productProperty.list.response.json"), answer))
    assert (answer["total"], answer["next"]) == (51, 50)
    assert set(answer["result"]["productProperties"][0]) == {"id", "name", "iblockId", "propertyType"}


# -- properties ----------------------------------------------------------------------------------
def test_get_update_delete_round_trip(rest: B24Rest) -> None:
    created = add_property(rest)
    assert rest.call("catalog.productProperty.get", {"id": created["id"]})["productProperty"] == created
    updated = rest.call(
        "catalog.productProperty.update", {"id": created["id"], "fields": {"name": "Артикул 1С", "sort": 10}}
    )["productProperty"]
    assert (updated["name"], updated["sort"], updated["code"]) == ("Артикул 1С", 10, "ARTICLE")
    assert rest.call("catalog.productProperty.delete", {"id": created["id"]}) is True
    status, answer = rest.send("catalog.productProperty.get", {"id": created["id"]})
    assert status == 400
    assert answer["error"] == 0


def test_list_filters_by_catalog_and_code(rest: B24Rest) -> None:
    article = add_property(rest)
    add_property(rest, iblockId=OTHER_IBLOCK)
    add_property(rest, name="Бренд", code="BRAND")
    found = rest.call("catalog.productProperty.list", {"filter": {"iblockId": IBLOCK, "code": "ARTICLE"}})
    assert [p["id"] for p in found["productProperties"]] == [article["id"]]
    everything = rest.call("catalog.productProperty.list", {})
    assert len(everything["productProperties"]) == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"iblockId": IBLOCK, "name": "X"}, "Required fields"),
        ({"iblockId": 999, "name": "X", "propertyType": "S"}, "not a product catalog"),
        ({"iblockId": IBLOCK, "name": "X", "propertyType": "Q"}, "Invalid property type"),
        ({"iblockId": IBLOCK, "name": "X", "propertyType": "S", "code": "1X"}, "cannot start with a digit"),
    ],
)
def test_invalid_add_is_a_400(rest: B24Rest, fields: dict[str, Any], message: str) -> None:
    status, answer = rest.send("catalog.productProperty.add", {"fields": fields})
    assert status == 400
    assert message in answer["error_description"]


# -- property values on products ---------------------------------------------------------------
@pytest.mark.parametrize("given", ["A-100", {"value": "A-100"}, [{"value": "A-100"}], ["A-100"]])
def test_product_stores_a_single_value_in_any_documented_form(rest: B24Rest, given: Any) -> None:
    key = f"property{add_property(rest)['id']}"
    product_id = add_product(rest, **{key: given})
    value = get_product(rest, product_id)[key]
    assert value["value"] == "A-100"
    assert isinstance(value["valueId"], str)
    assert value["valueId"].isdigit()


def test_multiple_property_returns_a_list(rest: B24Rest) -> None:
    key = f"property{add_property(rest, code='TAGS', multiple='Y')['id']}"
    product_id = add_product(rest, **{key: [{"value": "a"}, {"value": "b"}]})
    assert [v["value"] for v in get_product(rest, product_id)[key]] == ["a", "b"]


def test_unset_property_is_null_and_update_replaces_the_value(rest: B24Rest) -> None:
    key = f"property{add_property(rest)['id']}"
    product_id = add_product(rest)
    assert get_product(rest, product_id)[key] is None
    element = rest.call("catalog.product.update", {"id": product_id, "fields": {key: {"value": "B-2"}}})
    assert element["element"][key]["value"] == "B-2"
    assert get_product(rest, product_id)[key]["value"] == "B-2"


def test_unknown_or_foreign_property_is_ignored(rest: B24Rest) -> None:
    foreign = f"property{add_property(rest, iblockId=OTHER_IBLOCK)['id']}"
    product_id = add_product(rest, property9999="x", **{foreign: "y"})
    product = get_product(rest, product_id)
    assert "property9999" not in product
    assert foreign not in product


def test_list_selects_and_filters_by_property(rest: B24Rest) -> None:
    key = f"property{add_property(rest)['id']}"
    wanted = add_product(rest, **{key: "A-1"})
    add_product(rest, **{key: "A-2"})
    answer = rest.call(
        "catalog.product.list",
        {"select": ["id", "iblockId", key], "filter": {"iblockId": IBLOCK, key: "A-1"}},
    )
    assert [(p["id"], p[key]["value"]) for p in answer["products"]] == [(wanted, "A-1")]
    assert set(answer["products"][0]) == {"id", "iblockId", key}


def test_deleting_a_property_drops_it_from_products(rest: B24Rest) -> None:
    prop = add_property(rest)
    product_id = add_product(rest, **{f"property{prop['id']}": "A-1"})
    rest.call("catalog.productProperty.delete", {"id": prop["id"]})
    assert f"property{prop['id']}" not in get_product(rest, product_id)
