"""Comparing the Bitrix24 emulator's answers with the documented samples (tests/fixtures/b24)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Keys whose names depend on the sample portal's own data (user-field codes, smart-process links,
# catalog property IDs); they are compared only when the emulator has a key of that name too.
DYNAMIC_KEY = re.compile(r"^(UF_CRM_\w+|PARENT_ID_\d+|property\d+)$")


def shape_mismatches(expected: Any, actual: Any, path: str = "$") -> Iterator[str]:
    """Where `actual` differs from `expected` in keys or JSON value types (values themselves are free).

    `null` in the sample accepts anything; numbers are one type (int/float); lists compare every
    actual element against the sample's first element; a `[]` sample accepts an empty object too
    (PHP's empty array)."""
    if expected is None:
        return
    if isinstance(expected, bool):
        if not isinstance(actual, bool):
            yield f"{path}: expected bool, got {type(actual).__name__} {actual!r}"
        return
    if isinstance(expected, int | float):
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            yield f"{path}: expected number, got {type(actual).__name__} {actual!r}"
        return
    if isinstance(expected, str):
        if not isinstance(actual, str):
            yield f"{path}: expected string, got {type(actual).__name__} {actual!r}"
        return
    if isinstance(expected, list):
        if not expected and actual in ([], {}):
            return
        if not isinstance(actual, list):
            yield f"{path}: expected list, got {type(actual).__name__}"
            return
        if expected and not actual:
            yield f"{path}: expected a non-empty list"
            return
        # Rows may legitimately differ (e.g. the default funnel lacks originId): each actual row
        # must have the shape of at least one documented row.
        for index, item in enumerate(actual):
            attempts = [
                list(shape_mismatches(option, item, f"{path}[{index}]")) for option in expected or [None]
            ]
            best = min(attempts, key=len)
            yield from best
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            if not expected and actual == []:
                return
            yield f"{path}: expected object, got {type(actual).__name__}"
            return
        for key, value in expected.items():
            if key not in actual:
                if DYNAMIC_KEY.match(key):
                    continue
                yield f"{path}.{key}: missing"
                continue
            yield from shape_mismatches(value, actual[key], f"{path}.{key}")


# The fields of the frame POST a portal sends to a placement or install handler: query and form body
# (api-reference/widgets/_includes/widget_data.md; docs/sandbox-b24.md "Local application and placements").
FRAME_QUERY_KEYS = {"DOMAIN", "PROTOCOL", "LANG", "APP_SID"}
FRAME_BODY_KEYS = {
    "AUTH_ID",
    "AUTH_EXPIRES",
    "REFRESH_ID",
    "SERVER_ENDPOINT",
    "APPLICATION_TOKEN",
    "APPLICATION_SCOPE",
    "member_id",
    "status",
    "PLACEMENT",
    "PLACEMENT_OPTIONS",
}
