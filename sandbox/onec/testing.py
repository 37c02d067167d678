"""Helpers for tests that drive the emulator over HTTP (URLs encoded like a careful 1C client)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from .seed import seed_ref

BASE = "/unf/odata/standard.odata/"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onec"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text("utf-8")
    return json.loads(text) if name.endswith(".json") else text


def url(path: str, **options: str) -> str:
    """OData URL with spaces as %20 (1C reads `+` in $filter as addition)."""
    if not options:
        return path
    query = "&".join(f"{name}={quote(value, safe=chr(39) + '(),/:=$')}" for name, value in options.items())
    return f"{path}?{query}"


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
