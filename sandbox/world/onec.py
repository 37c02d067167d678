"""Reading the 1C emulator over OData like a careful 1C client (spaces as %20) and its seed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

AUTH = ("odata", "odata")


def url(path: str, **options: str) -> str:
    """OData URL with spaces as %20 (1C reads `+` in $filter as addition)."""
    if not options:
        return path
    query = "&".join(f"{name}={quote(value, safe=chr(39) + '(),/:=$')}" for name, value in options.items())
    return f"{path}?{query}"


def get(base_url: str, path: str, **params: str) -> Any:
    """GET `path` under the OData root `base_url` as JSON (`$filter`, `$select`... as keywords)."""
    answer = httpx.get(base_url + url(path, **{"$format": "json", **params}), auth=AUTH, timeout=15)
    answer.raise_for_status()
    return answer.json()


def seed(root_url: str) -> dict[str, dict[str, str]]:
    """The emulator's seeded objects: entity set → name → Ref_Key (`root_url` without the OData path)."""
    data: dict[str, dict[str, str]] = httpx.get(root_url + "/_sandbox/seed", timeout=15).json()
    return data


def hand_typed_order(
    refs: dict[str, dict[str, str]],
    counterparty: str,
    total: float,
    *,
    deal_id: int | None = None,
    deal_property: str | None = None,
) -> dict[str, Any]:
    """A customer order as an accountant types it into 1C before go-live: one row of bolts for
    `total`; with `deal_id`, the deal-id additional attribute (`deal_property`, its ref) is filled."""
    body: dict[str, Any] = {
        "Date": "2024-09-02T00:00:00",
        "ВидОперации": "ЗаказНаПродажу",
        "Организация_Key": refs["Catalog_Организации"]['ООО "Металл-Сервис"'],
        "Контрагент_Key": counterparty,
        "Запасы": [
            {
                "LineNumber": 1,
                "Номенклатура_Key": refs["Catalog_Номенклатура"]["Болт М10х50"],
                "Количество": 1,
                "Цена": total,
                "Сумма": total,
                "Всего": total,
            }
        ],
    }
    if deal_id is not None:
        if deal_property is None:
            raise ValueError("a deal id needs the deal-id attribute's ref")
        body["ДополнительныеРеквизиты"] = [
            {"LineNumber": 1, "Свойство_Key": deal_property, "Значение": str(deal_id)}
        ]
    return body
