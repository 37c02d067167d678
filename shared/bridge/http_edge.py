"""Defences every public HTTP route shares: body size, JSON nesting, readable refusal reasons.

The three public routes (`/b24/events`, `/1c/events`, `/stock/refresh`) answer a malformed body
with a 4xx and a reason, never a 5xx: each check here costs time linear in the body and never
recurses on the input, so a hostile body is refused as cheaply as a plain one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from pydantic import ValidationError

from bridge.errors import BridgeError

# Far deeper than any body the routes accept (their documented bodies nest 3 levels), far below
# Python's recursion limit, so nothing downstream (json, pydantic, logging) ever recurses deeply.
MAX_JSON_DEPTH = 32

# A JSON string, possibly unterminated (`"?`, so a scan never restarts: linear); its brackets do
# not count. Possessive forms: no backtracking.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_BRACKET_KIND = bytes.maketrans(b"{}", b"[]")
# `\uD800`–`\uDFFF` escapes; only when one is present is the decoded text checked for a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class BodyRejected(BridgeError):
    """The request body is refused with `status` (4xx); the message is the reason given back."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def raw_body(body: str | None, *, is_base64_encoded: bool, max_bytes: int) -> bytes:
    """The request's bytes as API Gateway delivered them; 413 over `max_bytes`, 400 for bad base64."""
    text = body or ""
    if is_base64_encoded:
        # base64 is 4/3 of the payload: refuse before decoding something huge.
        if len(text) > (max_bytes * 4) // 3 + 4:
            raise BodyRejected(413, f"body over {max_bytes} bytes")
        try:
            payload = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise BodyRejected(400, "body is not valid base64") from None
    else:
        if len(text) > max_bytes:  # every character is at least one byte
            raise BodyRejected(413, f"body over {max_bytes} bytes")
        # surrogatepass: a lone surrogate in the event's text becomes bytes the UTF-8 check refuses.
        payload = text.encode("utf-8", "surrogatepass")
    if len(payload) > max_bytes:
        raise BodyRejected(413, f"body over {max_bytes} bytes")
    return payload


def utf8_text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRejected(400, "body is not UTF-8") from None


def json_nested_deeper_than(text: str, max_depth: int) -> bool:
    """Whether arrays/objects in `text` nest more than `max_depth` levels (brackets in strings do
    not count). C-level passes only, never recursion: each pass deletes the innermost `[]` pairs,
    so a body of depth d is empty after d passes; at most `max_depth` passes are made.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _JSON_STRING.sub(b"", text.encode("utf-8", "surrogatepass"))
    # Only nesting matters here; mismatched kinds are json's to refuse.
    brackets = brackets.translate(_ONE_BRACKET_KIND, _NOT_BRACKETS)
    if b"[" * (max_depth + 1) in brackets:  # the common hostile shape, found in one search
        return True
    for _ in range(max_depth):
        shorter = brackets.replace(b"[]", b"")
        if shorter == brackets:  # unbalanced leftovers: json.loads names the syntax error
            return False
        brackets = shorter
    return bool(brackets)


def load_json(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parsed JSON, or BodyRejected(400) naming what is wrong: syntax, nesting, lone surrogate."""
    if json_nested_deeper_than(text, max_depth):
        raise BodyRejected(400, f"JSON nested deeper than {max_depth} levels")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as error:  # ValueError also covers over-long integers
        raise BodyRejected(400, f"body is not valid JSON ({_first_line(error)})") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(parsed):
        # Such a string cannot be written as UTF-8: not to a log, a queue or a reply.
        raise BodyRejected(400, "JSON string with a lone surrogate (\\ud800-\\udfff)")
    return parsed


def load_json_object(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    parsed = load_json(text, max_depth=max_depth)
    if not isinstance(parsed, dict):
        raise BodyRejected(400, "JSON body must be an object")
    return parsed


def describe(error: ValidationError, *, limit: int = 3) -> str:
    """A pydantic error as plain text (`objects.0.ref: not a GUID`): always JSON-serialisable,
    never echoing the input."""
    reasons = []
    for item in error.errors(include_url=False, include_input=False, include_context=False)[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        if item["type"] == "extra_forbidden":
            reasons.append(f"{where}: unknown field")
        else:
            reasons.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    more = error.error_count() - limit
    if more > 0:
        reasons.append(f"and {more} more")
    return "; ".join(reasons)


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__
