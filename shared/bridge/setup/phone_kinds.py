"""Setup of the phone-kind table: `[phones]` names resolved to 1C `Catalog_ВидыКонтактнойИнформации`
references (found, or created where missing), for every flow's setup step.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.config.phones import PhoneKinds
from bridge.domain.onec_sets import CONTACT_KINDS, PHONE
from bridge.domain.phones import OWNERS, PhoneKindRefs
from bridge.onec.client import ODataClient
from bridge.onec.odata import eq

NEW_KIND = {"Тип": PHONE, "Используется": True}  # a phone kind setup creates


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
            for r in onec.list(
                CONTACT_KINDS, filter=eq("Description", name), select=["Ref_Key", "DeletionMark"]
            )
            if not r.get("DeletionMark")
        ]
        if rows:
            return str(rows[0]["Ref_Key"])
        if dry_run:
            notes.append(f"would create {CONTACT_KINDS} {name!r} ({setting})")
            return None
        created = onec.create(CONTACT_KINDS, {"Description": name, **NEW_KIND})
        notes.append(f"created {CONTACT_KINDS} {name!r} ({setting})")
        return str(created["Ref_Key"])

    return resolve(phones, find), notes
