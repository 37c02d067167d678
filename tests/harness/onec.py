"""1C query helpers of the tests: contract samples, seeded refs, JSON reads, error shapes and the
orders the deal flow made for a deal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from sandbox.onec.seed import seed_ref
from sandbox.world.onec import get, seed, url

BASE = "/unf/odata/standard.odata/"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onec"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text("utf-8")
    return json.loads(text) if name.endswith(".json") else text


def ref(set_name: str, name: str) -> str:
    return seed_ref(set_name, name)


def get_json(client: httpx.Client, path: str, **options: str) -> Any:
    response = client.get(url(path, **{"$format": "json", **options}))
    assert response.status_code == 200, response.text
    return response.json()


def odata_error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()["odata.error"]
    assert body["message"]["lang"] == "ru"
    assert isinstance(body["message"]["value"], str)
    return response.status_code, body["code"]


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


DEAL_ID_PROPERTY = ("ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения", "ID сделки Битрикс24")


def orders_for(base_url: str, root_url: str, deal_id: int) -> list[dict[str, Any]]:
    """Customer orders whose additional attribute "ID сделки Битрикс24" holds `deal_id`."""
    prop = seed(root_url)[DEAL_ID_PROPERTY[0]][DEAL_ID_PROPERTY[1]]
    flt = f"ДополнительныеРеквизиты/any(d: d/Свойство_Key eq guid'{prop}' and d/Значение eq '{deal_id}')"
    rows: list[dict[str, Any]] = get(base_url, "Document_ЗаказПокупателя", **{"$filter": flt})["value"]
    return rows
