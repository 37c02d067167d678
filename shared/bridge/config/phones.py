"""`[phones]` of the mapping file: Bitrix24 PHONE VALUE_TYPE → 1C contact-information kind, per owner.

What the table means for the flows: `bridge.domain.phones`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.domain.phones import OWNERS, VALUE_TYPES


def _default_counterparty() -> dict[str, str]:
    return {"WORK": "Телефон"}


def _default_person() -> dict[str, str]:
    return {"WORK": "Рабочий телефон", "MOBILE": "Мобильный телефон"}


def _types(table: Mapping[str, str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for value_type, name in table.items():
        key = value_type.strip().upper()
        if key not in VALUE_TYPES:
            raise ValueError(f"{value_type!r} is not a Bitrix24 PHONE VALUE_TYPE ({', '.join(VALUE_TYPES)})")
        result[key] = name
    return result


class PhoneKinds(BaseModel):
    """`[phones]` of the mapping file: VALUE_TYPE → `Catalog_ВидыКонтактнойИнформации` description."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    counterparty: dict[str, str] = Field(default_factory=_default_counterparty)
    person: dict[str, str] = Field(default_factory=_default_person)  # contact persons
    default_type: str = "WORK"

    @field_validator("counterparty", "person")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        return _types(value)

    @model_validator(mode="after")
    def _default_is_listed(self) -> PhoneKinds:
        for owner in OWNERS:
            if self.default_type not in getattr(self, owner):
                raise ValueError(f"phones.{owner} must list the default_type {self.default_type!r}")
        return self
