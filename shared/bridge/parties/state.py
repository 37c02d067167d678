"""The neutral state both sides are mapped to: a flat field → value dict.

Values are text, tuples of text (phones, e-mails) or address pairs `(presentation, region)`, so two
states compare and fingerprint by value. An empty value ("" or ()) means "this side has nothing
here": it never overwrites the other side (§2.2.12.11).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bridge.domain.fingerprint import fingerprint

type Value = str | tuple[str, ...]
type State = dict[str, Value]


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == []


def clean_text(value: Any) -> str:
    return " ".join(str(value or "").split())


def texts(values: Iterable[Any]) -> tuple[str, ...]:
    """Distinct non-empty values in their order."""
    return tuple(dict.fromkeys(t for t in (clean_text(v) for v in values) if t))


def fit(value: Value, limit: int) -> Value:
    """What 1C keeps of a text field `limit` characters long (a tuple is not cut)."""
    return clean_text(value[:limit]) if isinstance(value, str) else value


_POSTAL = re.compile(r"\d{6}")
# The parts of a neutral address value, in this order (empty parts are "").
ADDRESS_PARTS = ("postal_code", "region", "city", "street", "country")


def address(text: Any, *, postal: Any = "", region: Any = "", city: Any = "", country: Any = "") -> Value:
    """(postal code, region, city, street, country), or () for no address.

    1C keeps one presentation ("115054, Москва г, Валовая ул, дом 21") beside a few parts; Bitrix24
    keeps the parts in their own fields. Both sides go through here: leading tokens of the text that
    repeat a part are dropped and a leading six-digit token is the postal code when none is given, so
    an address reads the same from either side and its parts land in the Bitrix24 address fields.
    """
    parts = {"postal": clean_text(postal), "region": clean_text(region), "city": clean_text(city)}
    parts["country"] = clean_text(country)
    tokens = [t for t in (clean_text(t) for t in clean_text(text).split(",")) if t]
    while tokens:
        head = tokens[0]
        if not parts["postal"] and _POSTAL.fullmatch(head):
            parts["postal"] = head
        elif not any(head.casefold() == v.casefold() for v in parts.values() if v):
            break
        tokens.pop(0)
    street = ", ".join(tokens)
    value = (parts["postal"], parts["region"], parts["city"], street, parts["country"])
    return value if any(value) else ()


def address_text(value: Value) -> str:
    """The one-line presentation of an address value, as 1C shows it (no country)."""
    postal, region, city, street, _ = (*value, "", "", "", "", "")[:5]
    return ", ".join(p for p in (postal, region, city, street) if p)


def state_fingerprint(state: Mapping[str, Value]) -> str:
    return fingerprint(
        {k: list(v) if isinstance(v, tuple) else v for k, v in state.items() if not is_empty(v)}
    )


def dump_state(state: Mapping[str, Value]) -> str:
    return json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in state.items()},
        ensure_ascii=False,
        sort_keys=True,
    )


def load_state(text: str | None) -> State:
    if not text:
        return {}
    raw = json.loads(text)
    return {str(k): tuple(v) if isinstance(v, list) else str(v) for k, v in raw.items()}


def split_person_name(full_name: str) -> tuple[str, str, str]:
    """1C keeps one name field, surname first: (last, first, middle)."""
    parts = clean_text(full_name).split(" ")
    if not parts or not parts[0]:
        return "", "", ""
    return parts[0], parts[1] if len(parts) > 1 else "", " ".join(parts[2:])


def join_person_name(last: Any, first: Any, middle: Any) -> str:
    return " ".join(p for p in (clean_text(last), clean_text(first), clean_text(middle)) if p)
