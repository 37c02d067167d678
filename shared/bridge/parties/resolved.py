"""Ids setup resolved from the names in `PartiesMapping`, kept in SyncTable (`CONFIG#parties`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.domain.counterparty import CounterpartyKind
from bridge.domain.phones import PhoneKindRefs
from bridge.store import SyncStore
from bridge.store.resolved import ResolvedConfig

FLOW = "parties"


class PartiesResolved(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    buyer_company_type: str = "CUSTOMER"
    supplier_company_type: str = "SUPPLIER"
    buyer_contact_type: str = "CLIENT"
    supplier_contact_type: str = "SUPPLIER"
    preset_ids: dict[CounterpartyKind, int] = Field(default_factory=dict)
    okopf_enum: dict[str, str] = Field(default_factory=dict)  # enum id (text) → value ("ООО")
    counterparty_folder: str | None = None
    okopf_property: str | None = None
    schedule_property: str | None = None
    legal_address_kind: str | None = None
    actual_address_kind: str | None = None
    postal_address_kind: str | None = None
    email_kind: str | None = None
    person_email_kind: str | None = None
    phone_kinds: PhoneKindRefs = Field(default_factory=PhoneKindRefs)
    both_company_type: str = ""  # "" = none: either single type stands for buyer + supplier
    both_contact_type: str = ""
    contact_roles: dict[str, str] = Field(default_factory=dict)  # contact TYPE_ID → role Ref_Key

    def kind_of_preset(self, preset_id: int | None) -> CounterpartyKind | None:
        for kind, known in self.preset_ids.items():
            if known == preset_id:
                return kind
        return None

    def okopf_id(self, value: str) -> str | None:
        return next((enum_id for enum_id, text in self.okopf_enum.items() if text == value), None)


def resolved_config(store: SyncStore) -> ResolvedConfig[PartiesResolved]:
    """The parties' resolved ids in SyncTable: written by setup, read when a flow is built."""
    # Stored before the shared phone table existed: the flow would read phones kindless.
    return store.resolved(FLOW, PartiesResolved, outdated=lambda raw: "phone_kinds" not in raw)
