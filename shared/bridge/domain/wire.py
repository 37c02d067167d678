"""Coercions for Bitrix24 legacy wire values.

Legacy `crm.*` methods answer almost every scalar as a string ("410", "1000.00", "Y"), empty
references as null or "0", dates as ISO datetimes at local midnight, while `productrows.get` mixes
in native numbers. These annotated types turn all of that into plain Python values once, at the
boundary, and reject what cannot be a value of the kind (a list where an id belongs, "abc" as money).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError(f"{what}: expected a number, got {type(value).__name__}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{what}: {value!r} is not a whole number")
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not a whole number") from None


def _ref_id(value: Any) -> int | None:
    """A reference to another object; Bitrix24 writes "no reference" as null, "" or "0"."""
    if _is_blank(value):
        return None
    number = _integer(value, "id")
    if number < 0:
        raise ValueError(f"id: {value!r} is negative")
    return number or None


def _entity_id(value: Any) -> int:
    number = _ref_id(value)
    if number is None:
        raise ValueError("id: missing")
    return number


def _count(value: Any) -> int:
    if _is_blank(value):
        return 0
    return _integer(value, "integer")


def _optional_int(value: Any) -> int | None:
    return None if _is_blank(value) else _integer(value, "integer")


def _decimal(value: Any) -> Decimal | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    try:
        # str() first: Decimal(899.1) would carry the binary float's noise.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _amount(value: Any) -> Decimal:
    number = _decimal(value)
    return Decimal(0) if number is None else number


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return str(value)


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if _is_blank(value):
        return False
    text = str(value).strip().upper()
    if text in {"Y", "1", "TRUE"}:
        return True
    if text in {"N", "0", "FALSE"}:
        return False
    raise ValueError(f"{value!r} is not Y/N")


def _datetime(value: Any) -> datetime | None:
    """ISO datetime with offset, a bare ISO date, or the portal's display form "30.08.2024"."""
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if not isinstance(value, str):
        raise ValueError(f"expected a date, got {type(value).__name__}")
    text = value.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%d.%m.%Y")
    except ValueError:
        raise ValueError(f"{value!r} is not a date") from None


type RefId = Annotated[int | None, BeforeValidator(_ref_id)]
type EntityId = Annotated[int, BeforeValidator(_entity_id)]
type Count = Annotated[int, BeforeValidator(_count)]
type OptionalInt = Annotated[int | None, BeforeValidator(_optional_int)]
type Amount = Annotated[Decimal, BeforeValidator(_amount)]
type OptionalAmount = Annotated[Decimal | None, BeforeValidator(_decimal)]
type Text = Annotated[str, BeforeValidator(_text)]
type YesNo = Annotated[bool, BeforeValidator(_yes_no)]
type WireDateTime = Annotated[datetime | None, BeforeValidator(_datetime)]


class WireModel(BaseModel):
    """A Bitrix24 object as it arrives: unknown keys ignored, read by field name or wire alias."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
