"""Reading a JSON request body as both real systems' parsers do in two respects Python's does not.

`NaN`, `Infinity` and `-Infinity` are no JSON (RFC 8259; PHP's json_decode and 1C's reader refuse
them), and a number past a double's range (`1e400`) is kept as its text, so the field it is for
refuses it as no number instead of storing an infinity that cannot be written back as JSON."""

from __future__ import annotations

import json
import math
from typing import Any


def loads(text: str | bytes) -> Any:
    """`json.loads` with the two rules above; ValueError (or RecursionError) for what is no JSON."""
    return json.loads(text, parse_constant=_no_json, parse_float=_float_or_text)


def _float_or_text(text: str) -> float | str:
    number = float(text)
    return number if math.isfinite(number) else text


def _no_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
