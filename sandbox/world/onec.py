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
