"""Who is responsible in 1C: matching a Bitrix24 user to a 1C employee (§2.6.1), for every flow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.domain.counterparty import ref_or_none
from bridge.domain.onec_sets import EMAIL
from bridge.domain.text import name_key
from bridge.domain.users import B24User


class Employee(BaseModel):
    """A `Catalog_Сотрудники` row: reference, name and the e-mails in its contact information."""

    model_config = ConfigDict(frozen=True)
    ref: str
    description: str
    emails: tuple[str, ...] = ()

    @classmethod
    def from_onec(cls, row: Mapping[str, Any]) -> Employee:
        emails: list[str] = []
        for info in row.get("КонтактнаяИнформация") or []:
            if isinstance(info, Mapping) and info.get("Тип") == EMAIL:
                address = str(info.get("АдресЭП") or info.get("Представление") or "").strip()
                if address:
                    emails.append(address)
        return cls(
            ref=str(row["Ref_Key"]), description=str(row.get("Description") or ""), emails=tuple(emails)
        )


class ResponsibleSource(StrEnum):
    COUNTERPARTY = "counterparty"
    EMAIL = "email"
    NAME = "name"
    MANAGERS_TABLE = "managers_table"
    DEFAULT = "default"
    NONE = "none"


class ResponsibleDecision(BaseModel):
    model_config = ConfigDict(frozen=True)
    ref: str | None
    source: ResponsibleSource
    warning: bool = False  # the deal's responsible was not found among 1C employees


def _single(matches: list[Employee]) -> Employee | None:
    return matches[0] if len(matches) == 1 else None


def decide_responsible(
    counterparty_responsible: str | None,
    assigned_by_id: int | None,
    user: B24User | None,
    employees: Sequence[Employee],
    managers: Mapping[str, str],
    default_ref: str | None,
) -> ResponsibleDecision:
    """§2.6.1: an existing counterparty's manager wins; else map the deal's responsible user
    by e-mail, then "Фамилия Имя", then `managers` (Bitrix24 user
    id → employee description); else the default employee and a warning."""
    own = ref_or_none(counterparty_responsible)
    if own:
        return ResponsibleDecision(ref=own, source=ResponsibleSource.COUNTERPARTY)
    email = user.email.strip().casefold() if user else ""
    if email:
        found = _single([e for e in employees if email in {m.casefold() for m in e.emails}])
        if found:
            return ResponsibleDecision(ref=found.ref, source=ResponsibleSource.EMAIL)
    surname_name = name_key(f"{user.last_name} {user.name}") if user else ""
    if len(surname_name.split()) >= 2:
        found = _single(
            [
                e
                for e in employees
                if name_key(e.description) == surname_name
                or name_key(e.description).startswith(surname_name + " ")
            ]
        )
        if found:
            return ResponsibleDecision(ref=found.ref, source=ResponsibleSource.NAME)
    if assigned_by_id is not None and str(assigned_by_id) in managers:
        wanted = name_key(managers[str(assigned_by_id)])
        found = _single([e for e in employees if name_key(e.description) == wanted])
        if found:
            return ResponsibleDecision(ref=found.ref, source=ResponsibleSource.MANAGERS_TABLE)
    default = ref_or_none(default_ref)
    if default:
        return ResponsibleDecision(ref=default, source=ResponsibleSource.DEFAULT, warning=True)
    return ResponsibleDecision(ref=None, source=ResponsibleSource.NONE, warning=True)
