"""Reading numbers out of request values the way PHP's `is_numeric` does in one respect that
matters: "nan", "inf" and numbers past a double's range are not numbers. Python's `float()`
takes them, and a NaN or an infinity stored in the portal cannot be written back as JSON."""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> float | None:
    """`value` as a finite float; None when it is no number (text, "nan", "inf", 1e400, 10**400)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def json_float(text: str) -> float | str:
    """A JSON number literal as a float, or its text when a double cannot hold it (`1e400`): the
    methods then read it like the same digits sent in a form, as no number."""
    number = float(text)
    return number if math.isfinite(number) else text


def not_json(name: str) -> Any:
    """`NaN`, `Infinity` and `-Infinity` are not JSON (RFC 8259; PHP's json_decode refuses them)."""
    raise ValueError(f"{name} is not a JSON value")
