"""One phone-kind mapping for every flow: Bitrix24 `PHONE` `VALUE_TYPE` ⇄ 1C contact-information kind.

The deal flow (a buyer's counterparty and contact person) and the parties flow (both ways) write and
read phone rows through this table only. Two tables that disagreed (the deal flow wrote a mobile
phone without a kind, the parties flow read a kindless row as a work phone) produced a second
1C row and a WORK duplicate of a MOBILE phone in Bitrix24.

Direction Bitrix24 → 1C: the value's type picks the kind; a type not listed uses `default_type`'s
kind. Direction 1C → Bitrix24: a row's kind gives the first type listed for it; a row of any other
kind (or none) is `default_type`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.onec.odata import eq

if TYPE_CHECKING:
    from bridge.onec.client import ODataClient

# Bitrix24 `crm.enum.contenttype`-style PHONE value types (reference bitrix24 §5.3).
VALUE_TYPES = ("WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER")
type Owner = Literal["counterparty", "person"]
OWNERS: tuple[Owner, ...] = ("counterparty", "person")
KINDS_SET = "Catalog_ВидыКонтактнойИнформации"
PHONE = "Телефон"
NEW_KIND = {"Тип": PHONE, "Используется": True}


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


class PhoneKindRefs(BaseModel):
    """The same table with the kinds resolved to `Ref_Key`s (stored by setup)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    counterparty: dict[str, str] = Field(default_factory=dict)
    person: dict[str, str] = Field(default_factory=dict)
    default_type: str = "WORK"

    @property
    def empty(self) -> bool:
        return not self.counterparty and not self.person

    def kind_for(self, owner: Owner, value_type: str | None) -> str | None:
        """The kind a Bitrix24 phone of `value_type` gets in 1C."""
        table: dict[str, str] = getattr(self, owner)
        return table.get(str(value_type or "").upper()) or table.get(self.default_type)

    def type_for(self, owner: Owner, kind_ref: str | None) -> str:
        """The Bitrix24 VALUE_TYPE of a 1C phone row of `kind_ref`."""
        wanted = str(kind_ref or "").lower()
        table: dict[str, str] = getattr(self, owner)
        if wanted:
            for value_type, ref in table.items():
                if ref == wanted:
                    return value_type
        return self.default_type


def resolve(phones: PhoneKinds, find: Callable[[str, str], str | None]) -> PhoneKindRefs:
    """`find(description, setting)`: the kind's ref (found or created by the caller's setup step)."""
    tables: dict[str, dict[str, str]] = {}
    for owner in OWNERS:
        table: dict[str, str] = {}
        for value_type, name in getattr(phones, owner).items():
            ref = find(name, f"phones.{owner}.{value_type}") if name.strip() else None
            if ref:
                table[value_type] = ref.lower()
        tables[owner] = table
    return PhoneKindRefs(
        counterparty=tables["counterparty"], person=tables["person"], default_type=phones.default_type
    )


def ensure(onec: ODataClient, phones: PhoneKinds, *, dry_run: bool) -> tuple[PhoneKindRefs, list[str]]:
    """Find each listed kind by description, creating a missing one (not on a dry run)."""
    notes: list[str] = []

    def find(name: str, setting: str) -> str | None:
        rows = [
            r
            for r in onec.list(KINDS_SET, filter=eq("Description", name), select=["Ref_Key", "DeletionMark"])
            if not r.get("DeletionMark")
        ]
        if rows:
            return str(rows[0]["Ref_Key"])
        if dry_run:
            notes.append(f"would create {KINDS_SET} {name!r} ({setting})")
            return None
        created = onec.create(KINDS_SET, {"Description": name, **NEW_KIND})
        notes.append(f"created {KINDS_SET} {name!r} ({setting})")
        return str(created["Ref_Key"])

    return resolve(phones, find), notes
