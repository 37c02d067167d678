"""PHP bracket notation (`fields[PHONE][0][VALUE]=1`), the form Bitrix24 speaks.

Bitrix24 reads request parameters and writes outbound event bodies in PHP's nested query syntax;
`batch` commands are `method?<that syntax>`. One codec serves the client (encoding), the event
receiver and the emulator (decoding), so the notation has one definition in the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote

type Nested = dict[str, Any] | list[Any]

# PHP's own default `max_input_nesting_level`; deeper names are refused, not decoded.
DEFAULT_MAX_DEPTH = 64
# Digits of the largest index taken as a number; PHP_INT_MAX has 19 digits, and longer digit runs
# stay text keys (as in PHP), so no decode ever converts an unbounded digit string to an int.
_MAX_INDEX_DIGITS = 18


class QueryRejected(ValueError):
    """A query over a limit (fields, nesting); the message names the limit."""


def flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested mapping → ordered (bracket key, text value) pairs; lists get explicit indices."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten_into(pairs, f"{prefix}[{key}]" if prefix else str(key), value)
    return pairs


def _flatten_into(pairs: list[tuple[str, str]], key: str, value: Any) -> None:
    # Text and numbers, nearly every value of a command, are told apart first: the ABC check
    # behind `isinstance(value, Mapping)` costs more than the rest of a scalar's encoding.
    if isinstance(value, str):
        pairs.append((key, value))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        pairs.append((key, str(value)))
    elif isinstance(value, Mapping):
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
    """Query string as PHP's `http_build_query` writes it: names and values percent-encoded, the
    brackets too (`data%5BFIELDS%5D%5BID%5D=759`; spaces as %20, never `+`). The form a portal
    posts its events in."""
    return "&".join(f"{_quoted_name(k)}={_quoted(v)}" for k, v in flatten(params))


def encode_compact(params: Mapping[str, Any]) -> str:
    """The same fields with the brackets of names raw (`fields[TITLE]=a%20b`), and a value that is
    one whole batch back-reference (`$result[c1][element][id]`) unescaped.

    PHP decodes a name before it reads its brackets, so `[` and `%5B` name the same field; this is
    how fast_bitrix24 writes batch commands and how batch.md writes a back-reference. It is shorter
    and cheaper to decode, and an unescaped reference is found whether a portal resolves it before
    URL-decoding or after (docs/sandbox-b24.md, needs a live check).
    """
    return "&".join(f"{_compact_name(k)}={_compact_value(v)}" for k, v in flatten(params))


# What `quote(text, safe="")` leaves as it is: ids, numbers, codes, most of a batch's values.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
# Names made of those and brackets: nearly every name of a command (`fields[iblockId]`).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.~\[\]-]*")
# A whole value that is one back-reference with plain keys: `$result[c1][element][id]`.
_REFERENCE = re.compile(r"\$result(?:\[[A-Za-z0-9_.~-]*\])+")


def _quoted(text: str) -> str:
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


# The same few bracket names recur in every command of a batch (`fields[iblockId]`, …).
@lru_cache(maxsize=4096)
def _quoted_name(name: str) -> str:
    return _quoted(name)


@lru_cache(maxsize=4096)
def _compact_name(name: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) else quote(name, safe="[]")


def _compact_value(text: str) -> str:
    return text if _REFERENCE.fullmatch(text) else _quoted(text)


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


def unflatten(pairs: Iterable[tuple[str, str]], *, max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """Ordered (bracket key, value) pairs → nested dicts; `[]` appends; 0..n-1 keys become lists.

    Linear in the number of pairs: each dict keeps PHP's "next free index" instead of rescanning
    its keys for every `[]`. Names with more than `max_depth` bracket levels raise QueryRejected.
    The root stays a mapping whatever its keys (`0=x` → {"0": "x"}).
    """
    root = _Node()
    for key, value in pairs:
        path = parse_key(key)
        if len(path) - 1 > max_depth:
            raise QueryRejected(f"field {_shown(key)} is nested deeper than {max_depth} levels")
        node = root
        for position, part in enumerate(path):
            if part == "":
                part = str(node.next_index)
            node.note(part)
            if position == len(path) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, _Node):
                    child = _Node()
                    node[part] = child
                node = child
    return {k: _listify(v) for k, v in root.items()}


def decode(
    query: str, *, max_fields: int | None = None, max_depth: int = DEFAULT_MAX_DEPTH
) -> dict[str, Any]:
    """A form body or query string → nested structure (see `unflatten`).

    `max_fields` is checked on the raw text before any parsing (QueryRejected when over).
    """
    return unflatten(flat_pairs(query, max_fields=max_fields), max_depth=max_depth)


def flat_pairs(query: str, *, max_fields: int | None = None) -> list[tuple[str, str]]:
    """The (name, value) pairs of a query, undecoded names (`auth[application_token]`); linear."""
    try:
        return parse_qsl(query, keep_blank_values=True, max_num_fields=max_fields)
    except ValueError:  # parse_qsl's only ValueError here is its field count
        raise QueryRejected(f"more than {max_fields} fields") from None


def index_value(key: str) -> int | None:
    """The integer PHP reads a key as (`0`, `17`); None for any other text (`05`, `０`, `²`, `-1`)."""
    if key == "0":
        return 0
    if 0 < len(key) <= _MAX_INDEX_DIGITS and key.isascii() and key.isdigit() and key[0] != "0":
        return int(key)
    return None


class _Node(dict[str, Any]):
    """A dict that remembers PHP's next free integer index, so `[]` costs O(1)."""

    __slots__ = ("next_index",)

    def __init__(self) -> None:
        super().__init__()
        self.next_index = 0

    def note(self, key: str) -> None:
        number = index_value(key)
        if number is not None and number >= self.next_index:
            self.next_index = number + 1


def _shown(key: str) -> str:
    return repr(key if len(key) <= 40 else key[:40] + "…")


def _listify(value: Any) -> Any:
    # Recursion is bounded by max_depth (the nesting of the names), never by the input's size.
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        indices = {index_value(k) for k in converted}
        if converted and indices == set(range(len(converted))):
            return [converted[str(i)] for i in range(len(converted))]
        return converted
    return value
