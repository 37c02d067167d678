"""Bitrix24 reads that make writes safe to repeat: find by `xmlId` before creating (architecture §3.3)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.b24.batching import MAX_BATCH
from bridge.b24.client import PAGE_SIZE, B24Client
from bridge.b24.models import Command
from bridge.onec.odata import normalize_ref


def _chunks[T](values: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _batched_lists(b24: B24Client, wrapper: str, commands: list[Command]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for group in _chunks(commands, MAX_BATCH):
        answer = b24.batch({f"l{index}": command for index, command in enumerate(group)})
        if answer.errors:
            raise next(iter(answer.errors.values()))
        for value in answer.result.values():
            found = value.get(wrapper, []) if isinstance(value, dict) else value
            rows += list(found or [])
    return rows


def products_by_xml_id(b24: B24Client, iblock_id: int, refs: Sequence[str]) -> dict[str, int]:
    """ref → product id for the refs that already exist as products (≤ 50 refs per list page)."""
    commands = [
        Command(
            "catalog.product.list",
            {"select": ["id", "iblockId", "xmlId"], "filter": {"iblockId": iblock_id, "xmlId": list(chunk)}},
        )
        for chunk in _chunks(refs, PAGE_SIZE)
    ]
    rows = _batched_lists(b24, "products", commands)
    return {str(row["xmlId"]).lower(): int(row["id"]) for row in rows if row.get("xmlId")}


def price_ids(
    b24: B24Client, price_type_id: int, product_ids: Sequence[int]
) -> dict[int, tuple[int, Decimal]]:
    """product id → (price id, price) of the configured price type."""
    commands = [
        Command(
            "catalog.price.list",
            {
                "select": ["id", "productId", "price"],
                "filter": {"productId": list(chunk), "catalogGroupId": price_type_id},
            },
        )
        for chunk in _chunks(product_ids, PAGE_SIZE)
    ]
    rows = _batched_lists(b24, "prices", commands)
    return {int(row["productId"]): (int(row["id"]), Decimal(str(row["price"]))) for row in rows}


@dataclass(frozen=True, slots=True)
class Probe:
    """What one request tells about the catalog before a first load."""

    sections: dict[str, int] | None  # xmlId → section id; None when there are more than one page
    has_products: bool


def probe(b24: B24Client, iblock_id: int) -> Probe:
    """The sections by `xmlId` and whether any product exists, in one batch."""
    answer = b24.batch(
        {
            "s": Command(
                "catalog.section.list", {"select": ["id", "xmlId"], "filter": {"iblockId": iblock_id}}
            ),
            "p": Command(
                "catalog.product.list",
                {"select": ["id", "iblockId"], "filter": {"iblockId": iblock_id}, "start": -1},
            ),
        }
    )
    if answer.errors:
        raise next(iter(answer.errors.values()))
    sections = answer.result["s"]
    rows = sections.get("sections", []) if isinstance(sections, dict) else sections
    products = answer.result["p"]
    found = products.get("products", []) if isinstance(products, dict) else products
    return Probe(
        sections=None
        if "s" in answer.next
        else {str(row["xmlId"]).lower(): int(row["id"]) for row in rows or [] if row.get("xmlId")},
        has_products=bool(found),
    )


def sections_by_xml_id(b24: B24Client, iblock_id: int) -> dict[str, int]:
    rows = b24.list_all(
        "catalog.section.list",
        {"select": ["id", "xmlId"], "filter": {"iblockId": iblock_id}},
        rows_key="sections",
    )
    return {str(row["xmlId"]).lower(): int(row["id"]) for row in rows if row.get("xmlId")}


def store_amounts(b24: B24Client, store_id: int, product_ids: Sequence[int]) -> dict[int, Decimal]:
    commands = [
        Command(
            "catalog.storeproduct.list",
            {"select": ["productId", "amount"], "filter": {"productId": list(chunk), "storeId": store_id}},
        )
        for chunk in _chunks(product_ids, PAGE_SIZE)
    ]
    rows = _batched_lists(b24, "storeProducts", commands)
    return {int(row["productId"]): Decimal(str(row.get("amount") or 0)) for row in rows}


def products_by_id(
    b24: B24Client, iblock_id: int, product_ids: Sequence[int]
) -> dict[int, tuple[str | None, Decimal]]:
    """product id → (1C ref from `xmlId` when it is a GUID, current `quantity`)."""
    commands = [
        Command(
            "catalog.product.list",
            {
                "select": ["id", "iblockId", "xmlId", "quantity"],
                "filter": {"iblockId": iblock_id, "id": list(chunk)},
            },
        )
        for chunk in _chunks(product_ids, PAGE_SIZE)
    ]
    rows = _batched_lists(b24, "products", commands)
    return {int(row["id"]): (_guid(row.get("xmlId")), Decimal(str(row.get("quantity") or 0))) for row in rows}


def _guid(value: Any) -> str | None:
    try:
        return normalize_ref(str(value)) if value else None
    except ValueError:
        return None
