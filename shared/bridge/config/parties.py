"""The parties flow's settings: what people configure (names, owners, schedule), never ids.

Ids (company type status ids, requisite presets, user-field enum ids, 1C references) are resolved
from these names by `bridge.parties.setup` and kept in SyncTable (`bridge.parties.resolved`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.domain.counterparty import CounterpartyKind

type Side = Literal["1c", "b24"]

OKOPF_VALUES: tuple[str, ...] = ("МПРО", "ПАО", "МБУ", "БПОУ", "КФХ", "ФКУ", "ССОСПК", "ООО", "ОАО", "ИП")


class PartyField(StrEnum):
    """Fields of the neutral counterparty state both sides are mapped to (mappings.md §3)."""

    KIND = "kind"
    NAME = "name"
    FULL_NAME = "full_name"
    INN = "inn"
    KPP = "kpp"
    OKPO = "okpo"
    OKOPF = "okopf"
    SCHEDULE = "schedule"
    COMMENT = "comment"
    RELATION = "relation"  # "buyer" | "supplier" | "both"
    LEGAL_ADDRESS = "legal_address"
    ACTUAL_ADDRESS = "actual_address"
    POSTAL_ADDRESS = "postal_address"
    PHONES = "phones"
    EMAILS = "emails"
    RESPONSIBLE = "responsible"


class PersonField(StrEnum):
    """Fields of the neutral contact-person state (mappings.md §4)."""

    NAME = "name"
    POST = "post"
    COMMENT = "comment"
    WORK_PHONES = "work_phones"
    MOBILE_PHONES = "mobile_phones"
    EMAILS = "emails"
    OWNER = "owner"  # the 1C counterparty (Ref_Key) the person belongs to
    ROLE = "role"  # contact TYPE_ID ⇄ the first row of 1C `Роли` (`contact_roles`)


def _default_owners() -> dict[str, Side]:
    one_c: dict[str, Side] = {f: "1c" for f in ("inn", "kpp", "okpo", "okopf", "full_name")}
    b24: dict[str, Side] = {
        f: "b24" for f in ("phones", "emails", "comment", "responsible", "work_phones", "mobile_phones")
    }
    return one_c | b24


def _default_contact_roles() -> dict[str, str]:
    return {"CLIENT": "Клиент", "SUPPLIER": "Поставщик", "PARTNER": "Партнёр", "OTHER": "Другое"}


def _default_presets() -> dict[CounterpartyKind, str]:
    return {
        CounterpartyKind.LEGAL_ENTITY: "Организация",
        CounterpartyKind.SOLE_PROPRIETOR: "ИП",
        CounterpartyKind.PRIVATE_PERSON: "Физ. лицо",
    }


class PartiesMapping(BaseModel):
    """`[parties]` of the mapping file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # 1C → Bitrix24 manifest diff and the Bitrix24 sweep run on one schedule (§2.6.7).
    schedule_minutes: int = Field(5, ge=1, le=1440)
    # Which side wins a field both sides changed since the last sync; others: `default_owner`.
    owners: dict[str, Side] = Field(default_factory=_default_owners)
    default_owner: Side = "1c"
    # §2.2.12.5: which 1C kinds are companies in Bitrix24 (the rest are contacts).
    company_kinds: tuple[CounterpartyKind, ...] = (
        CounterpartyKind.LEGAL_ENTITY,
        CounterpartyKind.SOLE_PROPRIETOR,
    )
    # Requisite preset (its name on the portal) per 1C kind (§2.2.12.3).
    presets: dict[CounterpartyKind, str] = Field(default_factory=_default_presets)
    # COMPANY_TYPE / CONTACT_TYPE values (STATUS_ID or NAME in crm.status.list) for the 1C flags.
    buyer_company_type: str = "CUSTOMER"
    supplier_company_type: str = "SUPPLIER"
    buyer_contact_type: str = "CLIENT"
    supplier_contact_type: str = "SUPPLIER"
    # Company user fields (created by setup).
    okopf_field: str = "UF_CRM_1C_OKOPF"
    okopf_values: tuple[str, ...] = OKOPF_VALUES
    schedule_field: str = "UF_CRM_1C_SCHEDULE"
    # 1C additional attributes of Справочник_Контрагенты.
    okopf_attribute: str = "ОКОПФ"
    schedule_attribute: str = "Расписание работы"
    # Catalog_ВидыКонтактнойИнформации descriptions.
    legal_address_kind: str = "Юридический адрес"
    actual_address_kind: str = "Фактический адрес"
    postal_address_kind: str = "Почтовый адрес"
    # Phone kinds: `[phones]` (bridge.config.phones), shared with the deal flow.
    email_kind: str = "Email"
    person_email_kind: str = "Email контактного лица"
    # Deletions never cascade unless asked to.
    delete_in_onec_when_b24_deleted: bool = False  # sets the 1C deletion mark
    delete_in_b24_when_onec_marked: bool = False
    # A counterparty that is buyer *and* supplier: the COMPANY_TYPE / CONTACT_TYPE that says so.
    # Empty (default, no such type on a stock portal): Bitrix24 shows the buyer type, either single
    # type there stands for "both", and 1C keeps both flags until someone clears one in 1C.
    both_company_type: str = ""
    both_contact_type: str = ""
    # Contact person: Bitrix24 contact TYPE_ID → 1C `Catalog_РолиКонтактныхЛиц` description (the
    # first row of `Роли`); setup creates a missing role. Empty = contact types do not travel.
    contact_roles: dict[str, str] = Field(default_factory=_default_contact_roles)

    def owner_of(self, field: str) -> Side:
        return self.owners.get(field, self.default_owner)

    def first_link_owner_of(self, field: str) -> Side:
        """Owners when a pair is linked for the first time (no synced state yet).

        The counterparty was matched to an existing 1C record, whose manager is the one the customer
        assigned: §2.6.1 sends orders of an existing counterparty "к привязанному менеджеру", so the
        1C manager is kept rather than replaced by whoever created the Bitrix24 card. Later changes
        follow the normal owners.
        """
        return "1c" if field == PartyField.RESPONSIBLE else self.owner_of(field)
