"""Demo step: 1C nomenclature → Bitrix24 catalog and stock, through the real functions.

Runs CatalogSyncFunction and StockSyncFunction on the local stack, lists what Bitrix24 now shows
(section path, article, price, quantity), changes a price and a balance in 1C, runs again and
shows that exactly those two writes reached Bitrix24.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandbox.local import LocalStack
from sandbox.onec.seed import seed_ref

WRITE_VERBS = ("add", "update", "delete", "conduct")


def _get(url: str) -> Any:
    return httpx.get(url, timeout=30).json()


def _rest(b24: str, method: str, params: dict[str, Any]) -> Any:
    return httpx.post(f"{b24}/rest/1/sandbox/{method}", json=params, timeout=30).json()["result"]


def _articles(b24: str) -> dict[int, Any]:
    """product id → article as the product card shows it: the "Артикул" property, else `code`."""
    found = _rest(b24, "catalog.productProperty.list", {"filter": {"code": "ARTICLE"}})["productProperties"]
    key = f"property{found[0]['id']}" if found else "code"
    out: dict[int, Any] = {}
    for catalog in _rest(b24, "catalog.catalog.list", {})["catalogs"]:
        query = {"select": ["id", "iblockId", key], "filter": {"iblockId": catalog["iblockId"]}}
        for row in _rest(b24, "catalog.product.list", query)["products"]:
            value = row.get(key)
            out[row["id"]] = value["value"] if isinstance(value, dict) else value
    return out


def run(stack: LocalStack, say: Callable[[str], None]) -> None:
    assert stack.b24 is not None
    assert stack.onec is not None
    b24, onec = stack.b24.url, stack.onec.url

    def invoke(function: str) -> dict[str, Any]:
        answer = httpx.post(f"{stack.api_url}/_local/invoke/{function}", json={}, timeout=300)
        result: dict[str, Any] = answer.json()
        say(f"  {function}: {result.get('counts', result)}")
        return result

    def cursor() -> int:
        return int(_get(f"{b24}/_sandbox/calls")["cursor"])

    say("catalog: first nomenclature + stock run (1C → Bitrix24)")
    invoke("CatalogSyncFunction")
    invoke("StockSyncFunction")
    sections = {s["id"]: s for s in _get(f"{b24}/_sandbox/tables/sections")}
    prices = {p["productId"]: p["price"] for p in _get(f"{b24}/_sandbox/tables/prices")}

    def path(section_id: int | None) -> str:
        names: list[str] = []
        while section_id:
            names.insert(0, sections[section_id]["name"])
            section_id = sections[section_id]["iblockSectionId"]
        return " / ".join(names)

    articles = _articles(b24)
    for product in _get(f"{b24}/_sandbox/tables/products"):
        say(
            f"  Bitrix24 product {product['id']:>3}: {path(product['iblockSectionId'])} / {product['name']}"
            f" [{articles.get(product['id'])}] price {prices.get(product['id'])} qty {product['quantity']}"
        )
    bolt = seed_ref("Catalog_Номенклатура", "Болт М10х50")
    main = seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
    say("catalog: in 1C the bolt's price becomes 13.75 and its main-warehouse balance 1800")
    httpx.post(f"{onec}/_sandbox/prices", json={"Номенклатура_Key": bolt, "Цена": 13.75}).raise_for_status()
    httpx.post(
        f"{onec}/_sandbox/stock",
        json={"Номенклатура_Key": bolt, "СтруктурнаяЕдиница_Key": main, "Количество": 1800},
    ).raise_for_status()
    since = cursor()
    invoke("CatalogSyncFunction")
    invoke("StockSyncFunction")
    calls = _get(f"{b24}/_sandbox/calls?since={since}")["calls"]
    writes = [c for c in calls if c["method"] != "batch" and c["method"].rsplit(".", 1)[-1] in WRITE_VERBS]
    for call in writes:
        say(f"  Bitrix24 write: {call['method']} {call['params']}")
    say(f"catalog: {len(writes)} write(s) for 2 changes; a run with nothing changed writes nothing")
