"""crm.company.* and crm.contact.* (+ their links, user fields) and crm.duplicate.findbycomm."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.b24 import crm_entity, errors, numbers
from sandbox.b24.crm_entity import EntitySpec
from sandbox.b24.fields import F, FieldDef
from sandbox.b24.registry import Call, method
from sandbox.b24.state import Portal

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _has(type_id: str) -> Any:
    return lambda portal, record: "Y" if record.get(type_id) else "N"


def _legacy_address(prefix: str) -> list[FieldDef]:
    parts = [
        "",
        "_2",
        "_CITY",
        "_POSTAL_CODE",
        "_REGION",
        "_PROVINCE",
        "_COUNTRY",
        "_COUNTRY_CODE",
        "_LOC_ADDR_ID",
    ]
    return [F(f"{prefix}{p}", "string", read_only=True) for p in parts]


# Computed on read from the multifields (what the card shows as "phone given" etc.).
_HAS = {"HAS_PHONE": _has("PHONE"), "HAS_EMAIL": _has("EMAIL"), "HAS_IMOL": _has("IM")}

_COMMON_TAIL = [
    F("ASSIGNED_BY_ID", "user", "Ответственный"),
    F("CREATED_BY_ID", "user", "Кем создана", read_only=True),
    F("MODIFY_BY_ID", "user", "Кем изменена", read_only=True),
    F("DATE_CREATE", "datetime", "Дата создания", read_only=True),
    F("DATE_MODIFY", "datetime", "Дата изменения", read_only=True),
    F("OPENED", "char", "Доступна для всех"),
    F("LEAD_ID", "crm_lead", "Лид", read_only=True, settings={"parentEntityTypeId": 1}),
    F("ORIGINATOR_ID", "string", "Внешний источник"),
    F("ORIGIN_ID", "string", "Идентификатор во внешнем источнике"),
    F("ORIGIN_VERSION", "string", "Версия оригинала"),
    F("UTM_SOURCE", "string"),
    F("UTM_MEDIUM", "string"),
    F("UTM_CAMPAIGN", "string"),
    F("UTM_CONTENT", "string"),
    F("UTM_TERM", "string"),
    F("LAST_ACTIVITY_TIME", "datetime", read_only=True),
    F("LAST_ACTIVITY_BY", "user", read_only=True),
]

COMPANY = crm_entity.crm_spec(
    "company",
    "companies",
    [
        F("ID", "integer", "ID", read_only=True),
        F("COMPANY_TYPE", "crm_status", "Тип компании", status_type="COMPANY_TYPE"),
        F("TITLE", "string", "Название компании", required=True),
        F("LOGO", "file", "Логотип"),
        F("HAS_PHONE", "char", "Задан телефон", read_only=True),
        F("HAS_EMAIL", "char", "Задан e-mail", read_only=True),
        F("HAS_IMOL", "char", "Задана открытая линия", read_only=True),
        F("BANKING_DETAILS", "string", "Банковские реквизиты"),
        F("INDUSTRY", "crm_status", "Сфера деятельности", status_type="INDUSTRY"),
        F("REVENUE", "double", "Годовой оборот"),
        F("CURRENCY_ID", "crm_currency", "Валюта"),
        F("EMPLOYEES", "crm_status", "Кол-во сотрудников", status_type="EMPLOYEES"),
        F("COMMENTS", "string", "Комментарий"),
        F("IS_MY_COMPANY", "char", "Моя компания"),
        F("CONTACT_ID", "crm_contact", "Контакты", multiple=True),
        *_COMMON_TAIL,
        *_legacy_address("ADDRESS"),
        F("ADDRESS_LEGAL", "string", read_only=True),
        *_legacy_address("REG_ADDRESS"),
        F("LAST_COMMUNICATION_TIME", "string", read_only=True),
    ],
    multifields=crm_entity.MULTIFIELD_TYPES,
    computed=_HAS,
)

CONTACT = crm_entity.crm_spec(
    "contact",
    "contacts",
    [
        F("ID", "integer", "ID", read_only=True),
        F("HONORIFIC", "crm_status", "Обращение", status_type="HONORIFIC"),
        F("NAME", "string", "Имя"),
        F("SECOND_NAME", "string", "Отчество"),
        F("LAST_NAME", "string", "Фамилия"),
        F("PHOTO", "file", "Фотография"),
        F("BIRTHDATE", "date", "Дата рождения"),
        F("TYPE_ID", "crm_status", "Тип контакта", status_type="CONTACT_TYPE"),
        F("SOURCE_ID", "crm_status", "Источник", status_type="SOURCE"),
        F("SOURCE_DESCRIPTION", "string", "Дополнительно об источнике"),
        F("POST", "string", "Должность"),
        F("COMMENTS", "string", "Комментарий"),
        F("EXPORT", "char", "Участвует в экспорте контактов"),
        F("HAS_PHONE", "char", "Задан телефон", read_only=True),
        F("HAS_EMAIL", "char", "Задан e-mail", read_only=True),
        F("HAS_IMOL", "char", "Задана открытая линия", read_only=True),
        F("COMPANY_ID", "crm_company", "Компания"),
        F("COMPANY_IDS", "crm_company", "Компании", multiple=True),
        F("FACE_ID", "integer", read_only=True),
        *_COMMON_TAIL,
        *_legacy_address("ADDRESS")[:-2],
        F("ADDRESS_LOC_ADDR_ID", "string", read_only=True),
    ],
    multifields=crm_entity.MULTIFIELD_TYPES,
    computed=_HAS,
)


def _check_emails(fields: Mapping[str, Any]) -> None:
    emails = fields.get("EMAIL")
    items = (
        emails if isinstance(emails, list) else list(emails.values()) if isinstance(emails, Mapping) else []
    )
    for item in items:
        value = item.get("VALUE") if isinstance(item, Mapping) else None
        if value and not _EMAIL.match(str(value)):
            raise errors.core(f"E-mail address '{value}' is invalid.")


def _create(call: Call, spec: EntitySpec, defaults: dict[str, Any]) -> int:
    fields = {str(k).upper(): v for k, v in call.fields().items()}
    params = call.param("params")
    if params is not None and not isinstance(params, Mapping):
        raise errors.legacy("Parameter 'params' must be array.")
    _check_emails(fields)
    table = call.portal.table(spec.table)
    entity_id = table.new_id()
    record: dict[str, Any] = {"ID": entity_id, "ASSIGNED_BY_ID": None, **defaults}
    crm_entity.apply_fields(call, spec, record, fields, creating=True)
    crm_entity.stamp_create(call, record)
    record["LAST_ACTIVITY_TIME"] = record["DATE_CREATE"]
    record["LAST_ACTIVITY_BY"] = call.user_id
    if spec is CONTACT:
        _contact_companies_from_fields(record, fields)
    if spec is COMPANY and not record.get("TITLE"):
        record["TITLE"] = f"Компания #{entity_id}"
    table.put(entity_id, record)
    crm_entity.emit(call, spec, "ADD", entity_id)
    return entity_id


def _update(call: Call, spec: EntitySpec) -> bool:
    entity_id = crm_entity.require_id(call)
    record = crm_entity.load(call, spec, entity_id)
    fields = {str(k).upper(): v for k, v in call.fields().items()}
    _check_emails(fields)
    crm_entity.apply_fields(call, spec, record, fields, creating=False)
    if spec is CONTACT:
        _contact_companies_from_fields(record, fields)
    crm_entity.stamp_update(call, record)
    crm_entity.emit(call, spec, "UPDATE", entity_id)
    return True


# -- contact ⇄ company links -------------------------------------------------------------------
COMPANIES = crm_entity.Binding(CONTACT, other="company", key="COMPANY_ID", slot="_companies")


def _contact_companies_from_fields(record: dict[str, Any], fields: Mapping[str, Any]) -> None:
    if "COMPANY_IDS" in fields:
        raw = fields["COMPANY_IDS"]
        found = (numbers.digits(str(c).strip()) for c in (raw if isinstance(raw, list) else [raw]))
        COMPANIES.set_ids(record, [c for c in found if c is not None])
    elif "COMPANY_ID" in fields:
        cid = numbers.digits(fields["COMPANY_ID"])
        COMPANIES.set_ids(record, [cid] if cid is not None else [])
    else:
        record.setdefault("_companies", [])
        COMPANIES.sync_primary(record)


crm_entity.register(
    COMPANY,
    add=lambda call: _create(
        call,
        COMPANY,
        {
            "COMPANY_TYPE": "CUSTOMER",
            "OPENED": "Y",
            "IS_MY_COMPANY": "N",
            "CURRENCY_ID": "RUB",
            "REVENUE": 0.0,
        },
    ),
    update=lambda call: _update(call, COMPANY),
)
crm_entity.register(
    CONTACT,
    add=lambda call: _create(
        call, CONTACT, {"TYPE_ID": "CLIENT", "OPENED": "Y", "EXPORT": "Y", "SOURCE_ID": None}
    ),
    update=lambda call: _update(call, CONTACT),
    bindings=(COMPANIES,),
)


@method("crm.contact.company.add")
def contact_company_add(call: Call) -> bool:
    contact_id = numbers.digits(call.param("id") or "")
    if contact_id is None or contact_id <= 0:
        raise errors.legacy("The parameter 'ownerEntityID' is invalid or not defined.")
    record = call.portal.table("contacts").get(contact_id)
    if record is None:
        raise errors.legacy("Not found")
    fields = {str(k).upper(): v for k, v in (call.fields() or {}).items()}
    company_id = numbers.digits(fields.get("COMPANY_ID", ""))
    if company_id is None:
        raise errors.legacy("The parameter 'fields' must contain COMPANY_ID.")
    if call.portal.table("companies").get(company_id) is None:
        raise errors.legacy("Not found")
    links = record.setdefault("_companies", [])
    if any(link["COMPANY_ID"] == company_id for link in links):
        return False
    primary = str(fields.get("IS_PRIMARY", "")).upper() == "Y" or not links
    if primary:
        for link in links:
            link["IS_PRIMARY"] = "N"
    sort = numbers.whole(fields.get("SORT"), max((link["SORT"] for link in links), default=0) + 10)
    links.append(
        {"COMPANY_ID": company_id, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}
    )
    COMPANIES.sync_primary(record)
    crm_entity.stamp_update(call, record)
    crm_entity.emit(call, CONTACT, "UPDATE", record["ID"])
    return True


# -- duplicates --------------------------------------------------------------------------------
def _comparable(type_: str, value: Any) -> str:
    text = str(value or "").strip().lower()
    if type_ == "PHONE":
        return re.sub(r"\D", "", text.split("доб")[0].split("ext")[0])[-10:]
    return text


def find_by_comm(
    portal: Portal, type_: str, values: list[Any], entity_types: list[str]
) -> dict[str, list[int]]:
    wanted = {_comparable(type_, v) for v in values if str(v).strip()}
    found: dict[str, list[int]] = {}
    for entity, table in (("CONTACT", "contacts"), ("COMPANY", "companies")):
        if entity not in entity_types:
            continue
        ids = [
            int(r["ID"])
            for r in portal.table(table).values()
            if any(_comparable(type_, m["VALUE"]) in wanted for m in r.get(type_) or [])
        ]
        if ids:
            found[entity] = sorted(ids)
    return found


@method("crm.duplicate.findbycomm")
def duplicate_findbycomm(call: Call) -> Any:
    type_ = str(call.param("type") or "").upper()
    if type_ not in ("EMAIL", "PHONE"):
        raise errors.B24Error("Communication type is not defined", "Parameter 'type' is required.", 400)
    values = call.param("values") or []
    values = list(values.values()) if isinstance(values, Mapping) else values
    if not isinstance(values, list) or not values:
        raise errors.B24Error("Invalid data", "Parameter 'values' must be array.", 400)
    if len(values) > 20:
        raise errors.B24Error("Too many values", "Too many values (maximum is 20).", 400)
    entity = call.param("entity_type")
    types = [str(entity).upper()] if entity else ["CONTACT", "COMPANY"]
    found = find_by_comm(call.portal, type_, values, types)
    return found or []
