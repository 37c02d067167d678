"""The Bitrix24 catalog as a person reads it after a sync, and the demo's two 1C changes."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.onec.seed import seed_ref

WRITE_VERBS = ("add", "update", "delete", "conduct")


def _get(url: str) -> Any:
    return httpx.get(url, timeout=30).json()


def _rest(b24_root: str, method: str, params: dict[str, Any]) -> Any:
    return httpx.post(f"{b24_root}/rest/1/sandbox/{method}", json=params, timeout=30).json()["result"]


def _articles(b24_root: str) -> dict[int, Any]:
    """product id → article as the product card shows it: the "Артикул" property, else `code`."""
    found = _rest(b24_root, "catalog.productProperty.list", {"filter": {"code": "ARTICLE"}})[
        "productProperties"
    ]
    key = f"property{found[0]['id']}" if found else "code"
    out: dict[int, Any] = {}
    for catalog in _rest(b24_root, "catalog.catalog.list", {})["catalogs"]:
        query = {"select": ["id", "iblockId", key], "filter": {"iblockId": catalog["iblockId"]}}
        for row in _rest(b24_root, "catalog.product.list", query)["products"]:
            value = row.get(key)
            out[row["id"]] = value["value"] if isinstance(value, dict) else value
    return out


def product_lines(b24_root: str) -> list[str]:
    """One line per product: section path / name [article] price … qty …"""
    sections = {s["id"]: s for s in _get(f"{b24_root}/_sandbox/tables/sections")}
    prices = {p["productId"]: p["price"] for p in _get(f"{b24_root}/_sandbox/tables/prices")}

    def path(section_id: int | None) -> str:
        names: list[str] = []
        while section_id:
            names.insert(0, sections[section_id]["name"])
            section_id = sections[section_id]["iblockSectionId"]
        return " / ".join(names)

    articles = _articles(b24_root)
    return [
        f"Bitrix24 product {product['id']:>3}: {path(product['iblockSectionId'])} / {product['name']}"
        f" [{articles.get(product['id'])}] price {prices.get(product['id'])} qty {product['quantity']}"
        for product in _get(f"{b24_root}/_sandbox/tables/products")
    ]


def change_bolt(onec_root: str) -> None:
    """In 1C the bolt's price becomes 13.75 and its main-warehouse balance 1800."""
    bolt = seed_ref("Catalog_Номенклатура", "Болт М10х50")
    main = seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
    httpx.post(
        f"{onec_root}/_sandbox/prices", json={"Номенклатура_Key": bolt, "Цена": 13.75}
    ).raise_for_status()
    httpx.post(
        f"{onec_root}/_sandbox/stock",
        json={"Номенклатура_Key": bolt, "СтруктурнаяЕдиница_Key": main, "Количество": 1800},
    ).raise_for_status()


def cursor(b24_root: str) -> int:
    return int(_get(f"{b24_root}/_sandbox/calls")["cursor"])


def writes_since(b24_root: str, since: int) -> list[dict[str, Any]]:
    """Bitrix24 catalog writes after journal position `since` (batch envelopes left out)."""
    calls = _get(f"{b24_root}/_sandbox/calls?since={since}")["calls"]
    return [c for c in calls if c["method"] != "batch" and c["method"].rsplit(".", 1)[-1] in WRITE_VERBS]
