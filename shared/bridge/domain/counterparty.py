"""What a counterparty is in 1C, for every flow that creates or reads one."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

# 1C's empty reference: a `_Key` field that points nowhere.
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


class CounterpartyKind(StrEnum):
    """1C enum `ВидыКонтрагентов` members the bridge creates."""

    LEGAL_ENTITY = "ЮридическоеЛицо"
    SOLE_PROPRIETOR = "ИндивидуальныйПредприниматель"
    PRIVATE_PERSON = "ФизическоеЛицо"


def ref_or_none(value: Any) -> str | None:
    """A 1C reference as the bridge keeps it (lower case), or None for a blank or empty one."""
    if not isinstance(value, str) or not value.strip() or value.strip() == EMPTY_GUID:
        return None
    return value.strip().lower()
