"""The list engine shared by crm.* and catalog.*: filter prefixes, order, select, 50-row pages.

Rows are the emulator's stored records; `kind_of(field)` says how to compare a field
("number", "date", "string" or "multi" for PHONE/EMAIL-style lists of {VALUE}).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sandbox.b24 import clock

PAGE_SIZE = 50

# Longest prefixes first so `>=` is not read as `>` + `=FIELD`.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("!=%", "notlike_raw"),
    ("!%=", "notlike_raw"),
    ("=%", "like_raw"),
    ("%=", "like_raw"),
    ("!%", "notlike"),
    (">=", "ge"),
    ("<=", "le"),
    ("!@", "notin"),
    ("!=", "ne"),
    ("@", "in"),
    (">", "gt"),
    ("<", "lt"),
    ("%", "like"),
    ("=", "eq"),
    ("!", "ne"),
)

type KindOf = Callable[[str], str]


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


def parse_filter(filter_: Any, normalize: Callable[[str], str] = lambda name: name) -> list[Condition]:
    if not isinstance(filter_, Mapping):
        return []
    conditions = []
    for raw_key, value in filter_.items():
        key = str(raw_key)
        op = "eq"
        for prefix, name in _PREFIXES:
            if key.startswith(prefix):
                op, key = name, key[len(prefix) :]
                break
        if isinstance(value, list) and op == "eq":
            op = "in"
        elif isinstance(value, list) and op == "ne":
            op = "notin"
        conditions.append(Condition(normalize(key), op, value))
    return conditions


def _typed(value: Any, kind: str, tz: timezone) -> Any:
    if value is None or value == "":
        return None
    if kind == "number":
        if isinstance(value, bool):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value).casefold()
    if kind == "date":
        parsed = clock.parse(value, tz)
        return parsed if parsed else str(value).casefold()
    if isinstance(value, bool):
        return "y" if value else "n"
    return str(value).casefold()


def _candidates(row: Mapping[str, Any], field: str, kind: str) -> list[Any]:
    value = row.get(field)
    if kind == "multi":
        return [item.get("VALUE") for item in value or [] if isinstance(item, Mapping)] or [None]
    if isinstance(value, list):
        return value or [None]
    return [value]


def _like(text: Any, pattern: Any, raw: bool) -> bool:
    if text is None:
        return False
    haystack = str(text).casefold()
    needle = str(pattern).casefold()
    if not raw:
        return needle in haystack
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in needle)
    return re.fullmatch(regex, haystack, re.DOTALL) is not None


def _compare(left: Any, right: Any, op: str) -> bool:
    if left is None or right is None:
        return False
    if type(left) is not type(right):
        if isinstance(left, datetime) or isinstance(right, datetime):
            return False
        left, right = str(left), str(right)
    if op == "gt":
        return bool(left > right)
    if op == "ge":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def _condition_holds(row: Mapping[str, Any], cond: Condition, kind_of: KindOf, tz: timezone) -> bool:
    kind = kind_of(cond.field)
    compare_kind = "string" if kind == "multi" else kind
    values = [_typed(v, compare_kind, tz) for v in _candidates(row, cond.field, kind)]
    op = cond.op
    if op in ("eq", "ne"):
        wanted = _typed(cond.value, compare_kind, tz)
        hit = any(v == wanted for v in values)
        return hit if op == "eq" else not hit
    if op in ("in", "notin"):
        options = cond.value if isinstance(cond.value, list) else [cond.value]
        wanted_set = [_typed(o, compare_kind, tz) for o in options]
        hit = any(v in wanted_set for v in values)
        return hit if op == "in" else not hit
    if op in ("like", "like_raw", "notlike", "notlike_raw"):
        raw_values = _candidates(row, cond.field, kind)
        hit = any(_like(v, cond.value, op.endswith("_raw")) for v in raw_values)
        return hit if op.startswith("like") else not hit
    wanted = _typed(cond.value, compare_kind, tz)
    return any(_compare(v, wanted, op) for v in values)


def apply_filter(
    rows: Iterable[Any], conditions: Sequence[Condition], kind_of: KindOf, tz: timezone
) -> list[Any]:
    return [row for row in rows if all(_condition_holds(row, c, kind_of, tz) for c in conditions)]


def _sort_key(value: Any, kind: str, tz: timezone) -> tuple[int, Any]:
    typed = _typed(value[0] if isinstance(value, list) and value else value, kind, tz)
    if typed is None:
        return (0, 0)
    if isinstance(typed, float):
        return (1, typed)
    if isinstance(typed, datetime):
        return (2, typed.timestamp())
    return (3, typed)


def parse_order(order: Any, normalize: Callable[[str], str] = lambda name: name) -> list[tuple[str, bool]]:
    """`{FIELD: ASC|DESC}` (any case) → [(field, descending)]; a list of names means ASC each."""
    if isinstance(order, Mapping):
        return [(normalize(str(k)), str(v).strip().lower() == "desc") for k, v in order.items()]
    if isinstance(order, list):
        return [(normalize(str(k)), False) for k in order]
    return []


def apply_order(
    rows: Iterable[Any], order: Sequence[tuple[str, bool]], kind_of: KindOf, tz: timezone
) -> list[Any]:
    ordered = list(rows)
    for field, descending in reversed(order):
        ordered.sort(key=_row_key(field, kind_of(field), tz), reverse=descending)
    return ordered


def _row_key(field: str, kind: str, tz: timezone) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    def key(row: Mapping[str, Any]) -> tuple[int, Any]:
        return _sort_key(row.get(field), kind, tz)

    return key


def parse_start(start: Any) -> int:
    try:
        return int(start or 0)
    except (TypeError, ValueError):
        return 0


@dataclass
class Page:
    rows: list[Any]
    total: int
    next: int | None


def paginate(rows: list[Any], start: int) -> Page:
    """`start=-1` is the fast mode: no count (`total` 0), no `next`, the first 50 rows."""
    if start < 0:
        return Page(rows[:PAGE_SIZE], 0, None)
    chunk = rows[start : start + PAGE_SIZE]
    following = start + PAGE_SIZE
    return Page(chunk, len(rows), following if following < len(rows) else None)
