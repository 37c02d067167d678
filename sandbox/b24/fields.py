"""Field descriptions and value conversion for legacy crm.* entities (UPPER_SNAKE, strings out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any

from sandbox.b24 import clock, numbers

# Reference types whose values are numeric IDs.
_ID_TYPES = frozenset(
    {"integer", "user", "crm_company", "crm_contact", "crm_category", "crm_lead", "crm_quote", "crm_deal"}
)
_NUMBER_TYPES = _ID_TYPES | {"double", "money"}
_DATE_TYPES = frozenset({"date", "datetime"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    title: str
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    required: bool = False
    status_type: str | None = None
    # How an unset value is rendered (most are null; a few samples show "").
    empty: Any = None
    settings: dict[str, Any] | None = None
    deprecated: bool = False

    def describe(self) -> dict[str, Any]:
        """One entry of `crm.<entity>.fields`."""
        info: dict[str, Any] = {
            "type": self.type,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isImmutable": self.immutable,
            "isMultiple": self.multiple,
            "isDynamic": False,
        }
        if self.status_type:
            info["statusType"] = self.status_type
        if self.deprecated:
            info["isDeprecated"] = True
        info["title"] = self.title
        if self.settings is not None:
            info["settings"] = self.settings
        return info


def F(name: str, type_: str = "string", title: str | None = None, **flags: Any) -> FieldDef:
    return FieldDef(name, type_, title or name.replace("_", " ").title(), **flags)


def kind_of_type(type_: str) -> str:
    if type_ == "crm_multifield":
        return "multi"
    if type_ in _NUMBER_TYPES or type_ in ("enumeration", "boolean"):
        return "number"
    if type_ in _DATE_TYPES:
        return "date"
    return "string"


def normalize(type_: str, value: Any, tz: timezone) -> Any:
    """Client input → stored value (None for empty)."""
    if isinstance(value, list) and type_ != "crm_multifield":
        return [normalize(type_, v, tz) for v in value]
    if value is None or (value == "" and type_ != "string"):
        return None
    if type_ in _ID_TYPES or type_ == "enumeration":
        number = numbers.finite(str(value))
        return None if number is None else int(number)
    if type_ in ("double", "money"):
        return numbers.finite(str(value).split("|")[0])
    if type_ == "char":
        return "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"
    if type_ == "boolean":
        return 1 if str(value).upper() in ("Y", "1", "TRUE") else 0
    if type_ == "datetime":
        return clock.as_datetime_text(value, tz)
    if type_ == "date":
        return clock.as_date_text(value, tz)
    return str(value)


def render(fd: FieldDef, value: Any) -> Any:
    """Stored value → what legacy crm.* returns: strings for scalars, `null` for empty refs."""
    if isinstance(value, list):
        return [render(fd, v) for v in value]
    if value is None:
        return fd.empty
    if fd.type in ("double", "money"):
        return f"{float(value):.2f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
