"""Setup step of the parties flow: resolve (and, unless dry-run, create) what the flow needs.

Bitrix24: COMPANY_TYPE / CONTACT_TYPE values, requisite presets, the company user fields
UF_CRM_1C_OKOPF (enumeration) and UF_CRM_1C_SCHEDULE. 1C: the folder for new counterparties,
contact-information kinds, the additional attributes "ОКОПФ" and "Расписание работы" of
Справочник_Контрагенты. The resolved ids go to SyncTable (`CONFIG#parties`).
"""

from __future__ import annotations

from typing import Any

from bridge.config.parties import PartiesMapping
from bridge.domain.onec_sets import CONTACT_KINDS as KINDS_SET
from bridge.domain.onec_sets import CONTACT_ROLES as ROLES
from bridge.domain.onec_sets import COUNTERPARTIES, PROPERTIES, PROPERTY_SETS
from bridge.onec.errors import NotFound as OneCNotFound
from bridge.onec.odata import all_of, eq
from bridge.parties.resolved import PartiesResolved, resolved_config
from bridge.parties.sync import parties_mapping
from bridge.ports import Ports
from bridge.setup import phone_kinds
from bridge.setup.framework import SetupProblem
from bridge.setup.onec_names import string_value_type

COUNTERPARTY_SET = "Справочник_Контрагенты"


class _Step:
    def __init__(self, ports: Ports, config: PartiesMapping, dry_run: bool) -> None:
        self.ports, self.config, self.dry_run = ports, config, dry_run
        self.notes: list[SetupProblem | str] = []

    def problem(self, where: str, what: str, fix: str) -> None:
        self.notes.append(SetupProblem(where, what, fix))

    # -- Bitrix24 -----------------------------------------------------------------------------
    def status(self, entity_id: str, wanted: str) -> str:
        rows = list(self.ports.b24.list_all("crm.status.list", {"filter": {"ENTITY_ID": entity_id}}))
        for row in rows:
            if wanted in (row.get("STATUS_ID"), row.get("NAME")):
                return str(row["STATUS_ID"])
        self.problem(
            f"Bitrix24 crm.status {entity_id}",
            f"no value {wanted!r}",
            "add it in the CRM settings or change the [parties] names in the mapping",
        )
        return wanted

    def presets(self) -> dict[Any, int]:
        rows = list(self.ports.b24.list_all("crm.requisite.preset.list", {}))
        found: dict[Any, int] = {}
        for kind, name in self.config.presets.items():
            match = next((r for r in rows if r.get("NAME") == name), None)
            if match is None:
                self.problem(
                    "Bitrix24 requisite presets",
                    f"no preset {name!r} (for {kind})",
                    "enable the preset in Bitrix24 or change [parties] presets in the mapping",
                )
            else:
                found[kind] = int(match["ID"])
        return found

    def company_field(
        self, name: str, user_type: str, label: str, values: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        rows = list(self.ports.b24.list_all("crm.company.userfield.list", {"filter": {"FIELD_NAME": name}}))
        if rows:
            return rows[0]
        if self.dry_run:
            self.notes.append(f"would create company field {name}")
            return None
        fields: dict[str, Any] = {
            "FIELD_NAME": name,
            "USER_TYPE_ID": user_type,
            "XML_ID": name,
            "EDIT_FORM_LABEL": label,
            "LIST_COLUMN_LABEL": label,
        }
        if values:
            fields["LIST"] = [{"VALUE": v, "XML_ID": v, "SORT": (i + 1) * 10} for i, v in enumerate(values)]
        self.ports.b24.call("crm.company.userfield.add", {"fields": fields})
        self.notes.append(f"created company field {name}")
        created = list(
            self.ports.b24.list_all("crm.company.userfield.list", {"filter": {"FIELD_NAME": name}})
        )
        return created[0] if created else None

    # -- 1C -----------------------------------------------------------------------------------
    def one(
        self, entity_set: str, description: str, extra: Any = None, create: dict[str, Any] | None = None
    ) -> str | None:
        condition = (
            eq("Description", description) if extra is None else all_of(eq("Description", description), extra)
        )
        rows = [r for r in self.ports.onec.list(entity_set, filter=condition) if not r.get("DeletionMark")]
        if rows:
            return str(rows[0]["Ref_Key"]).lower()
        if create is None or self.dry_run:
            (
                self.notes.append(f"would create {entity_set} {description!r}")
                if create is not None
                else self.problem(
                    f"1C {entity_set}",
                    f"no {description!r}",
                    "create it in 1C or change the name in the mapping",
                )
            )
            return None
        row = self.ports.onec.create(entity_set, {"Description": description, **create})
        self.notes.append(f"created {entity_set} {description!r}")
        return str(row["Ref_Key"]).lower()

    def contact_roles(self) -> dict[str, str]:
        """Contact TYPE_ID → `Catalog_РолиКонтактныхЛиц` ref; a base that does not publish the
        catalog gets a note and contact types simply do not travel."""
        found: dict[str, str] = {}
        for type_id, role in self.config.contact_roles.items():
            status = self.status("CONTACT_TYPE", type_id)
            try:
                ref = self.one(ROLES, role, create={})
            except OneCNotFound:
                self.notes.append(
                    f"1C {ROLES} is not published: contact types (TYPE_ID ⇄ Роли) do not travel; "
                    "add it to the OData composition and run setup again"
                )
                return {}
            if ref:
                found[status] = ref
        return found

    def property_of_counterparties(self, title: str) -> str | None:
        sets = self.ports.onec.list(PROPERTY_SETS, filter=eq("PredefinedDataName", COUNTERPARTY_SET))
        set_ref = str(sets[0]["Ref_Key"]).lower() if sets else None
        ref = self.one(
            PROPERTIES,
            title,
            create={
                "Заголовок": title,
                "ValueType": string_value_type(),
                "Виден": True,
                "Доступен": True,
                **({"НаборСвойств_Key": set_ref} if set_ref else {}),
            },
        )
        if ref and set_ref and not self.dry_run:
            current = self.ports.onec.get(PROPERTY_SETS, set_ref)
            rows = [dict(r) for r in current.get("ДополнительныеРеквизиты") or []]
            if not any(str(r.get("Свойство_Key")).lower() == ref for r in rows):
                rows.append({"Свойство_Key": ref, "ПометкаУдаления": False})
                numbered = [{**r, "LineNumber": i} for i, r in enumerate(rows, 1)]
                self.ports.onec.update(PROPERTY_SETS, set_ref, {"ДополнительныеРеквизиты": numbered})
        return ref


def resolve(ports: Ports, *, dry_run: bool) -> tuple[PartiesResolved, list[SetupProblem | str]]:
    config = parties_mapping(ports)
    step = _Step(ports, config, dry_run)
    okopf = step.company_field(config.okopf_field, "enumeration", "ОКОПФ (1С)", config.okopf_values)
    step.company_field(config.schedule_field, "string", "Расписание работы (1С)")
    folder = ports.mapping.onec.new_counterparty_folder
    kinds = {
        name: step.one(KINDS_SET, getattr(config, name), create={"Тип": kind, "Используется": True})
        for name, kind in (
            ("legal_address_kind", "Адрес"),
            ("actual_address_kind", "Адрес"),
            ("postal_address_kind", "Адрес"),
            ("email_kind", "АдресЭлектроннойПочты"),
            ("person_email_kind", "АдресЭлектроннойПочты"),
        )
    }
    resolved = PartiesResolved(
        buyer_company_type=step.status("COMPANY_TYPE", config.buyer_company_type),
        supplier_company_type=step.status("COMPANY_TYPE", config.supplier_company_type),
        buyer_contact_type=step.status("CONTACT_TYPE", config.buyer_contact_type),
        supplier_contact_type=step.status("CONTACT_TYPE", config.supplier_contact_type),
        preset_ids=step.presets(),
        okopf_enum={str(item["ID"]): str(item["VALUE"]) for item in (okopf or {}).get("LIST") or []},
        counterparty_folder=step.one(COUNTERPARTIES, folder, eq("IsFolder", True), create={"IsFolder": True}),
        okopf_property=step.property_of_counterparties(config.okopf_attribute),
        schedule_property=step.property_of_counterparties(config.schedule_attribute),
        both_company_type=step.status("COMPANY_TYPE", config.both_company_type)
        if config.both_company_type
        else "",
        both_contact_type=step.status("CONTACT_TYPE", config.both_contact_type)
        if config.both_contact_type
        else "",
        contact_roles=step.contact_roles(),
        phone_kinds=phone_kinds.resolve(
            ports.mapping.phones, lambda name, _: step.one(KINDS_SET, name, create=phone_kinds.NEW_KIND)
        ),
        **kinds,
    )
    return resolved, step.notes


def setup(ports: Ports, *, dry_run: bool) -> list[SetupProblem | str]:
    """The setup framework's step: resolve, create what is missing, store the ids."""
    resolved, notes = resolve(ports, dry_run=dry_run)
    if not dry_run:
        resolved_config(ports.store).save(resolved)
        notes.append("stored resolved parties ids in CONFIG#parties")
    return notes
