"""PHP bracket notation (`fields[PHONE][0][VALUE]=1`), the form Bitrix24 speaks.

Bitrix24 reads request parameters and writes outbound event bodies in PHP's nested query syntax;
`batch` commands are `method?<that syntax>`. One codec serves the client (encoding), the event
receiver and the emulator (decoding), so the notation has one definition in the project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

type Nested = dict[str, Any] | list[Any]


def flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested mapping → ordered (bracket key, text value) pairs; lists get explicit indices."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten_into(pairs, f"{prefix}[{key}]" if prefix else str(key), value)
    return pairs


def _flatten_into(pairs: list[tuple[str, str]], key: str, value: Any) -> None:
    if isinstance(value, Mapping):
        if not value:
            pairs.append((key, ""))
        for sub_key, sub_value in value.items():
            _flatten_into(pairs, f"{key}[{sub_key}]", sub_value)
    elif isinstance(value, list | tuple):
        if not value:
            pairs.append((key, ""))
        for index, item in enumerate(value):
            _flatten_into(pairs, f"{key}[{index}]", item)
    else:
        pairs.append((key, scalar_text(value)))


def scalar_text(value: Any) -> str:
    """How PHP's http_build_query writes a scalar: booleans as 1/0, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def encode(params: Mapping[str, Any]) -> str:
    """Query string with brackets and values percent-encoded (spaces as %20, never `+`)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in flatten(params))


def parse_key(key: str) -> list[str]:
    """`a[b][][c]` → ['a', 'b', '', 'c']; a malformed tail is kept literally, like PHP."""
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    parts = [head]
    remainder = "[" + rest
    while remainder.startswith("["):
        end = remainder.find("]")
        if end < 0:
            break
        parts.append(remainder[1:end])
        remainder = remainder[end + 1 :]
    return parts


def unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Ordered (bracket key, value) pairs → nested dicts; `[]` appends; 0..n-1 keys become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = parse_key(key)
        node: dict[str, Any] = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":
                part = str(_next_index(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    tree = _listify(root)
    assert isinstance(tree, dict)  # a mapping of names stays a mapping: its keys are not all digits
    return tree


def decode(query: str) -> dict[str, Any]:
    """A form body or query string → nested structure (see `unflatten`)."""
    return unflatten(parse_qsl(query, keep_blank_values=True))


def _next_index(node: dict[str, Any]) -> int:
    numeric = [int(k) for k in node if k.isdigit()]
    return max(numeric) + 1 if numeric else 0


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            indices = sorted(int(k) for k in converted)
            if indices == list(range(len(indices))):
                return [converted[str(i)] for i in indices]
        return converted
    return value
