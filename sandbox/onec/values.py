"""Defaults and coercion of incoming JSON values to the stored form of each Edm type."""

from __future__ import annotations

import math
from typing import Any

from sandbox.onec.errors import ODataError, cannot_parse_value, internal_error
from sandbox.onec.filter import is_guid, normalize_datetime
from sandbox.onec.model import EMPTY_DATE, EMPTY_GUID, UNDEFINED_TYPE, Prop

_INTEGER_TYPES = ("Edm.Int16", "Edm.Int32", "Edm.Int64")


def default_value(prop: Prop, companion_of: Prop | None = None) -> Any:
    if companion_of is not None:
        return UNDEFINED_TYPE
    if prop.is_collection:
        return []
    if prop.name == "DataVersion":
        return 0
    match prop.edm:
        case "Edm.Guid":
            return EMPTY_GUID
        case "Edm.Boolean":
            return False
        case "Edm.DateTime":
            return EMPTY_DATE
        case "Edm.Double":
            return 0.0
        case "Edm.Int16" | "Edm.Int32" | "Edm.Int64":
            return 0
        case "StandardODATA.TypeDescription":
            return type_description({})
    return ""


# The qualifiers a real ValueType always carries on read, with the platform's defaults
# (fidelity-notes §1: Int64 lengths as strings, Int16 digits as numbers).
_QUALIFIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "NumberQualifiers": {"AllowedSign": "Any", "Digits": 0, "FractionDigits": 0},
    "StringQualifiers": {"AllowedLength": "Variable", "Length": "0"},
    "DateQualifiers": {"DateFractions": "DateTime"},
    "BinaryDataQualifiers": {"AllowedLength": "Variable", "Length": "0"},
}


def type_description(raw: Any) -> dict[str, Any]:
    """A `StandardODATA.TypeDescription` as 1C answers it: `Types` plus all four qualifiers.

    Type names are the platform's (`String`, `Number`); an `Edm.` prefix some clients send is
    taken off, since whether 1C accepts it is unconfirmed (docs/sandbox-onec.md).
    """
    given: dict[str, Any] = raw if isinstance(raw, dict) else {}
    types = given.get("Types")
    described: dict[str, Any] = {
        "Types": [str(t).removeprefix("Edm.") for t in types] if isinstance(types, list) else []
    }
    for name, defaults in _QUALIFIER_DEFAULTS.items():
        part = given.get(name)
        sent: dict[str, Any] = part if isinstance(part, dict) else {}
        described[name] = {key: sent.get(key, default) for key, default in defaults.items()}
        for key in ("Length", "Digits", "FractionDigits"):
            if key in described[name]:
                value = described[name][key]
                described[name][key] = str(value) if key == "Length" else int(_number(value, "Edm.Int16"))
    return described


# How a base may treat a `ValueType` sent on POST (docs/sandbox-onec.md, needs a live check), chosen
# with `POST /_sandbox/answers {"value_type": …}`: "as_sent" (the default: stored as given, missing
# qualifiers at the platform's defaults), "full_only" (refused unless all four qualifiers are
# given), "drops_qualifiers" (accepted, but only `Types` kept: an unlimited string), "refused"
# (no ValueType over OData at all).
VALUE_TYPE_ANSWERS = ("as_sent", "full_only", "drops_qualifiers", "refused")


def value_type_on_post(answer: str | None, raw: Any) -> Any:
    """The `ValueType` a POST stores under `answer`, or the platform's refusal."""
    given: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if answer == "refused":
        raise cannot_parse_value(raw, "StandardODATA.TypeDescription")
    if answer == "full_only" and not all(isinstance(given.get(q), dict) for q in _QUALIFIER_DEFAULTS):
        raise cannot_parse_value(raw, "StandardODATA.TypeDescription")
    if answer == "drops_qualifiers":
        return {"Types": given.get("Types", [])}
    return raw


def coerce(prop: Prop, raw: Any) -> Any:
    """Stored value of `raw` for `prop`; raises the platform's error for values it cannot take."""
    if isinstance(raw, list | dict) and prop.edm != "StandardODATA.TypeDescription":
        raise internal_error()
    match prop.edm:
        case "Edm.Guid":
            if raw is None:
                return EMPTY_GUID
            if not isinstance(raw, str) or not is_guid(raw):
                raise cannot_parse_value(raw, "Edm.Guid")
            return raw.lower()
        case "Edm.Boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise cannot_parse_value(raw, "Edm.Boolean")
        case "Edm.DateTime":
            if raw is None or raw == "":
                return EMPTY_DATE
            try:
                return normalize_datetime(str(raw))
            except ValueError:
                raise cannot_parse_value(raw, "Edm.DateTime") from None
        case "Edm.Double":
            return _number(raw, "Edm.Double")
        case edm if edm in _INTEGER_TYPES:
            return int(_number(raw, edm))
        case "StandardODATA.TypeDescription":
            return type_description(raw)
    if prop.composite:
        # Composite values keep their JSON form: a GUID for references, the primitive otherwise.
        return raw if isinstance(raw, bool | int | float) else ("" if raw is None else str(raw))
    text = "" if raw is None else raw if isinstance(raw, str) else _plain_text(raw)
    if prop.max_length and len(text) > prop.max_length:
        text = text[: prop.max_length]
    return text


def _plain_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _number(raw: Any, edm: str) -> float:
    """A finite number: "nan", "inf", 1e400 and 10**400 are none the platform stores."""
    try:
        number = float(raw if raw is not None else 0)
    except (TypeError, ValueError, OverflowError):
        raise cannot_parse_value(raw, edm) from None
    if not math.isfinite(number):
        raise cannot_parse_value(raw, edm)
    return number


def parse_line_number(raw: Any) -> int:
    if raw is None:
        raise cannot_parse_value(raw, "Edm.Int64")
    return int(_number(raw, "Edm.Int64"))


def ensure_object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise internal_error()
    return raw


__all__ = ["ODataError", "coerce", "default_value", "ensure_object", "parse_line_number"]
