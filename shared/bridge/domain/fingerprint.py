"""A stable hash of a mapped field set: the echo stopper of architecture §3.4.

Two mapped states that mean the same thing hash the same: key order does not matter, numbers
compare by value (`5`, `5.0` and `Decimal("5.00")` agree), GUIDs by their lowercase text, aware
datetimes by their UTC instant. Types stay distinct where the meaning differs: the number 5 and
the text "5" hash differently, as do None and "". List order matters (tabular rows are ordered).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Set
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def fingerprint(mapped: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON form of `mapped`."""
    canonical = json.dumps(_canonical(mapped), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    # Scalars become tagged text ("n:5", "s:abc") so json.dumps never has to format a float and
    # a number can never collide with a string of the same digits.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return _canonical(value.value)
    if isinstance(value, int | float | Decimal):
        return "n:" + _number(value)
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, uuid.UUID):
        return "s:" + str(value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo is not None else value
        return "t:" + moment.isoformat()
    if isinstance(value, date):
        return "d:" + value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, Set):
        return sorted((_canonical(item) for item in value), key=_sort_key)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def _number(value: int | float | Decimal) -> str:
    number = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError("cannot fingerprint NaN or infinity")
    if number == 0:
        return "0"  # -0.0 and 0 are the same amount
    return format(number.normalize(), "f")


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)
