"""One phone-kind mapping for every flow: Bitrix24 `PHONE` `VALUE_TYPE` ⇄ 1C contact-information kind.

The deal flow (a buyer's counterparty and contact person) and the parties flow (both ways) write and
read phone rows through this table only. Two tables that disagreed (the deal flow wrote a mobile
phone without a kind, the parties flow read a kindless row as a work phone) produced a second
1C row and a WORK duplicate of a MOBILE phone in Bitrix24.

Direction Bitrix24 → 1C: the value's type picks the kind; a type not listed uses `default_type`'s
kind. Direction 1C → Bitrix24: a row's kind gives the first type listed for it; a row of any other
kind (or none) is `default_type`.

The table people configure is `[phones]` (`bridge.config.phones.PhoneKinds`); setup resolves it
into `PhoneKindRefs` (`bridge.setup.phone_kinds`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Bitrix24 `crm.enum.contenttype`-style PHONE value types (reference bitrix24 §5.3).
VALUE_TYPES = ("WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER")
type Owner = Literal["counterparty", "person"]
OWNERS: tuple[Owner, ...] = ("counterparty", "person")


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
