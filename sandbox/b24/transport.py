"""Turning an HTTP request into (method, params): webhook path, query string and every body encoding."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from bridge.b24.php_query import decode, unflatten
from sandbox.b24 import errors


def split_method(raw: str) -> str:
    """`crm.deal.add.json/` → `crm.deal.add` (trailing slash and `.json`/`.xml` suffix are optional)."""
    name = raw.strip("/")
    for suffix in (".json", ".xml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


async def read_params(request: Request) -> dict[str, Any]:
    """Query string merged with the body: JSON, x-www-form-urlencoded or multipart (PHP bracket keys)."""
    params: dict[str, Any] = decode(request.url.query) if request.url.query else {}
    body = await request.body()
    if not body:
        return params
    content_type = request.headers.get("content-type", "").lower()
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            raise errors.B24Error("INVALID_REQUEST", "Request body is not valid JSON", 400) from None
        if isinstance(data, dict):
            params.update(data)
        return params
    if "multipart/form-data" in content_type:
        form = await request.form()
        pairs = [(k, v.filename or "" if isinstance(v, UploadFile) else v) for k, v in form.multi_items()]
        params.update(unflatten(pairs))
        return params
    params.update(decode(body.decode("utf-8", errors="replace")))
    return params
