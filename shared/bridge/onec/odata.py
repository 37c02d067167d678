"""Pure helpers for 1C's OData v3 dialect: literals, a tiny filter builder, value parsing.

Facts encoded here (reference/onec/README.md §4–§6, §14): references are lowercase GUIDs written
`guid'…'`; dates have no zone and need a 4-digit year (`datetime'0001-01-01T00:00:00'` is the
empty date); strings are single-quoted with inner quotes doubled; Int64 values arrive as JSON
strings; tabular rows must carry `LineNumber` 1..n.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
EMPTY_TYPE = "StandardODATA.Undefined"


class ODataLiteral(str):
    """Text that is already an OData literal (`guid'…'`, `datetime'…'`) and must not be quoted."""

    __slots__ = ()


# The form 1C sends every reference in. Text already in it is returned as it is: parsing it into
# a UUID and back costs 2 µs, seven times per item read (P1, docs/performance.md).
_CANONICAL_REF = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalize_ref(ref: str | uuid.UUID) -> str:
    """Lowercase canonical GUID text; raises ValueError for anything that is not a GUID."""
    if type(ref) is str and _CANONICAL_REF.fullmatch(ref):
        return ref
    return str(ref if isinstance(ref, uuid.UUID) else uuid.UUID(str(ref)))


def is_empty_ref(ref: str | None) -> bool:
    return not ref or normalize_ref(ref) == EMPTY_REF


def guid(ref: str | uuid.UUID) -> ODataLiteral:
    return ODataLiteral(f"guid'{normalize_ref(ref)}'")


def format_datetime(value: datetime | date) -> str:
    """1C's wire form `YYYY-MM-DDTHH:MM:SS`: no zone, no fraction, year always 4 digits.

    1C keeps server-local time without a zone, so an aware datetime cannot be placed correctly
    here; the caller converts to the base's local time first.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("1C datetimes carry no zone; convert to the base's local time first")
        moment = value
    else:
        moment = datetime(value.year, value.month, value.day)
    # strftime('%Y') drops leading zeros for years < 1000 on glibc; the empty date is year 1.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def datetime_literal(value: datetime | date) -> ODataLiteral:
    return ODataLiteral(f"datetime'{format_datetime(value)}'")


def quote_string(text: str) -> ODataLiteral:
    return ODataLiteral("'" + text.replace("'", "''") + "'")


def literal(value: Any) -> ODataLiteral:
    """Any Python value → OData literal. A bare `str` is a string; wrap refs with `guid()`."""
    if isinstance(value, ODataLiteral):
        return value
    if isinstance(value, bool):
        return ODataLiteral("true" if value else "false")
    if isinstance(value, uuid.UUID):
        return guid(value)
    if isinstance(value, int | Decimal):
        return ODataLiteral(str(value))
    if isinstance(value, float):
        return ODataLiteral(repr(value))
    if isinstance(value, datetime | date):
        return datetime_literal(value)
    if isinstance(value, str):
        return quote_string(value)
    raise TypeError(f"no OData literal for {type(value).__name__}")


def parse_datetime(value: str | None) -> datetime | None:
    """1C datetime text → naive datetime; the empty date (and empty text) → None."""
    if not value or value == EMPTY_DATE:
        return None
    return datetime.fromisoformat(value)


def parse_int64(value: str | int) -> int:
    """Edm.Int64 arrives as a JSON string (`"LineNumber": "1"`, `"odata.count": "1103"`)."""
    return int(value)


def renumber_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tabular rows with `LineNumber` 1..n in the given order (1C rejects gaps and other starts)."""
    return [{**row, "LineNumber": index} for index, row in enumerate(rows, start=1)]


@dataclass(frozen=True, slots=True)
class Filter:
    """A `$filter` expression. `&`, `|` and `~` combine expressions with explicit parentheses."""

    text: str

    def __and__(self, other: Filter) -> Filter:
        return Filter(f"({self.text}) and ({other.text})")

    def __or__(self, other: Filter) -> Filter:
        return Filter(f"({self.text}) or ({other.text})")

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text


class Comparison(Protocol):
    def __call__(self, field: str, value: Any) -> Filter: ...


def _comparison(operator: str) -> Comparison:
    def compare(field: str, value: Any) -> Filter:
        return Filter(f"{field} {operator} {literal(value)}")

    compare.__name__ = compare.__qualname__ = operator
    compare.__doc__ = f"`<field> {operator} <literal>`"
    return compare


eq = _comparison("eq")
ne = _comparison("ne")
gt = _comparison("gt")
ge = _comparison("ge")
lt = _comparison("lt")
le = _comparison("le")


def all_of(*conditions: Filter) -> Filter:
    return Filter(" and ".join(f"({c.text})" for c in conditions))


def any_of(*conditions: Filter) -> Filter:
    return Filter(" or ".join(f"({c.text})" for c in conditions))


def substringof(text: str, field: str) -> Filter:
    return Filter(f"substringof({quote_string(text)}, {field})")


def cast_ref(ref: str | uuid.UUID, entity_set: str) -> ODataLiteral:
    """Value for a composite field: `cast(guid'…', 'Catalog_Контрагенты')`."""
    return ODataLiteral(f"cast({guid(ref)}, {quote_string(entity_set)})")


def any_row(section: str, condition: Filter, *, var: str = "d") -> Filter:
    """Lambda over tabular rows; `condition` names row fields as `<var>/<Field>` (8.3.8+)."""
    return Filter(f"{section}/any({var}: {condition.text})")


def row_field(field: str, *, var: str = "d") -> str:
    return f"{var}/{field}"


# ---- `ValueType` of an additional attribute (StandardODATA.TypeDescription) -------------------------

# The qualifiers 1C answers on every ValueType, with the platform's defaults (fidelity-notes §1:
# Int64 lengths as strings, Int16 digits as numbers).
VALUE_TYPE_QUALIFIERS: dict[str, dict[str, Any]] = {
    "NumberQualifiers": {"AllowedSign": "Any", "Digits": 0, "FractionDigits": 0},
    "StringQualifiers": {"AllowedLength": "Variable", "Length": "0"},
    "DateQualifiers": {"DateFractions": "DateTime"},
    "BinaryDataQualifiers": {"AllowedLength": "Variable", "Length": "0"},
}


def full_value_type(value_type: Mapping[str, Any]) -> dict[str, Any]:
    """`value_type` with every qualifier spelled out (the given ones kept, the rest at the
    platform's defaults): the form a base that refuses a partial ValueType on POST takes."""
    full: dict[str, Any] = {"Types": list(value_type.get("Types") or [])}
    for name, defaults in VALUE_TYPE_QUALIFIERS.items():
        given = value_type.get(name)
        full[name] = {**defaults, **(dict(given) if isinstance(given, Mapping) else {})}
    return full


def value_type_kept(sent: Mapping[str, Any], stored: Any) -> bool:
    """Did 1C store the type and string length that were sent (read back from the object)?"""
    if not isinstance(stored, Mapping):
        return False
    types = [str(t).removeprefix("Edm.") for t in stored.get("Types") or []]
    if types != [str(t).removeprefix("Edm.") for t in sent.get("Types") or []]:
        return False
    wanted = sent.get("StringQualifiers")
    got = stored.get("StringQualifiers")
    if not isinstance(wanted, Mapping):
        return True
    if not isinstance(got, Mapping):
        return False
    return all(str(got.get(key)) == str(value) for key, value in wanted.items())
