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


# PHP_INT_MAX has 19 digits; a longer run is no ID (and past 4 300 digits int() refuses it).
_MAX_ID_DIGITS = 19


def digits(value: Any) -> int | None:
    """The integer `value` spells in ASCII digits (`"12"`, `12`); None for anything else.

    Where the methods checked `str(value).isdigit()` before `int(value)`: `isdigit` also takes
    "²" (which int() refuses) and "٣" (which no portal reads as 3), and runs of any length."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS:
        return None
    return int(text)


def whole(value: Any, default: int) -> int:
    """A whole-number parameter (SORT, user_id, …) where the methods called `int(value or default)`:
    `default` also when it is no whole number ("abc", "1.5", "²", a list), as a portal's PHP
    reads such a value silently rather than failing (docs/sandbox-b24.md, needs a live check)."""
    number = signed(value) if value else None
    return default if number is None else number


def signed(value: Any) -> int | None:
    """`digits` with an optional leading minus (`"-3"`); None for anything else."""
    text = str(value if value is not None else "")
    number = digits(text.removeprefix("-"))
    return None if number is None else -number if text.startswith("-") else number
