"""Turning an HTTP request into (method, params): webhook path, query string and every body encoding."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from bridge.b24.php_query import QueryRejected, decode, unflatten
from sandbox import json_body
from sandbox.b24 import errors


def split_method(raw: str) -> str:
    """`crm.deal.add.json/` → `crm.deal.add` (trailing slash and `.json`/`.xml` suffix are optional)."""
    name = raw.strip("/")
    for suffix in (".json", ".xml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


# The default `depth` of PHP's json_decode: JSON nested deeper is not read.
JSON_MAX_DEPTH = 512


def invalid_request(description: str) -> errors.B24Error:
    """A request the portal cannot read (README §1.4 `INVALID_REQUEST`, 400)."""
    return errors.B24Error("INVALID_REQUEST", description, 400)


def _json_depth(value: Any) -> int:
    """Levels of nested arrays/objects, as json_decode counts them (walked without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            pending.extend(
                (child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
            )
    return deepest


async def read_params(request: Request) -> dict[str, Any]:
    """Query string merged with the body: JSON, x-www-form-urlencoded or multipart (PHP bracket keys).

    A bracket name nested deeper than PHP's `max_input_nesting_level` (64), or JSON nested deeper
    than json_decode's depth (512), is refused with 400 INVALID_REQUEST rather than decoded
    (docs/sandbox-b24.md, needs a live check)."""
    try:
        return await _read_params(request)
    except QueryRejected as exc:
        raise invalid_request(f"Request {exc}") from None


async def _read_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = decode(request.url.query) if request.url.query else {}
    body = await request.body()
    if not body:
        return params
    content_type = request.headers.get("content-type", "").lower()
    if "json" in content_type:
        try:
            data = json_body.loads(body)
        except (ValueError, RecursionError):
            raise invalid_request("Request body is not valid JSON") from None
        if _json_depth(data) > JSON_MAX_DEPTH:
            raise invalid_request(f"Request body is nested deeper than {JSON_MAX_DEPTH} levels")
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
