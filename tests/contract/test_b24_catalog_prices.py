"""catalog.price.* against the emulator (README §6.5): a product holds one price of a type from a
quantity on, whatever writes came before."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.world.rest import B24Rest

pytestmark = pytest.mark.contract

IBLOCK = 23  # the emulator's seeded product catalog
BASE = 1  # the seeded base price type


def add_product(rest: B24Rest, name: str) -> int:
    return int(
        rest.call("catalog.product.add", {"fields": {"iblockId": IBLOCK, "name": name}})["element"]["id"]
    )


def add_price(rest: B24Rest, product_id: int, price: float, **extra: Any) -> tuple[int, Any]:
    fields = {"productId": product_id, "catalogGroupId": BASE, "price": price, "currency": "RUB"} | extra
    return rest.send("catalog.price.add", {"fields": fields})


def prices_of(rest: B24Rest, product_id: int) -> list[float]:
    rows = rest.call("catalog.price.list", {"filter": {"productId": product_id}})["prices"]
    return sorted(float(row["price"]) for row in rows)


def test_a_second_price_of_the_same_type_is_refused_and_the_first_stays(rest: B24Rest) -> None:
    product = add_product(rest, "Саморез")
    status, _ = add_price(rest, product, 10)
    assert status == 200

    status, answer = add_price(rest, product, 12)

    assert status == 400
    assert "already exists" in answer["error_description"]
    assert prices_of(rest, product) == [10.0]


def test_another_product_or_another_quantity_band_takes_a_price_of_the_same_type(rest: B24Rest) -> None:
    first, second = add_product(rest, "Гайка"), add_product(rest, "Шайба")
    add_price(rest, first, 10)

    assert add_price(rest, second, 11)[0] == 200
    assert add_price(rest, first, 9, quantityFrom=100)[0] == 200
    assert prices_of(rest, first) == [9.0, 10.0]


def test_a_deleted_price_or_product_frees_the_slot(rest: B24Rest) -> None:
    product = add_product(rest, "Болт")
    _, answer = add_price(rest, product, 10)
    rest.call("catalog.price.delete", {"id": answer["result"]["price"]["id"]})

    assert add_price(rest, product, 11)[0] == 200

    rest.call("catalog.product.delete", {"id": product})
    again = add_product(rest, "Болт")
    assert add_price(rest, again, 12)[0] == 200
    assert prices_of(rest, product) == []


def test_a_price_moved_to_another_product_frees_its_old_slot_and_takes_the_new_one(rest: B24Rest) -> None:
    first, second = add_product(rest, "Дюбель"), add_product(rest, "Анкер")
    _, answer = add_price(rest, first, 10)

    rest.call(
        "catalog.price.update", {"id": answer["result"]["price"]["id"], "fields": {"productId": second}}
    )

    assert add_price(rest, first, 13)[0] == 200
    assert add_price(rest, second, 14)[0] == 400
    assert prices_of(rest, second) == [10.0]
