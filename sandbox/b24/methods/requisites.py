"""crm.requisite.* (+ presets) and crm.address.* (composite key TYPE_ID + ENTITY_TYPE_ID + ENTITY_ID)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.b24 import crm_entity, errors, numbers, query
from sandbox.b24.fields import F, FieldDef, render
from sandbox.b24.registry import Call, Result, method

RQ_FIELDS = [
    "RQ_NAME",
    "RQ_FIRST_NAME",
    "RQ_LAST_NAME",
    "RQ_SECOND_NAME",
    "RQ_COMPANY_ID",
    "RQ_COMPANY_NAME",
    "RQ_COMPANY_FULL_NAME",
    "RQ_COMPANY_REG_DATE",
    "RQ_DIRECTOR",
    "RQ_ACCOUNTANT",
    "RQ_CEO_NAME",
    "RQ_CEO_WORK_POS",
    "RQ_CONTACT",
    "RQ_EMAIL",
    "RQ_PHONE",
    "RQ_FAX",
    "RQ_IDENT_TYPE",
    "RQ_IDENT_DOC",
    "RQ_IDENT_DOC_SER",
    "RQ_IDENT_DOC_NUM",
    "RQ_IDENT_DOC_PERS_NUM",
    "RQ_IDENT_DOC_DATE",
    "RQ_IDENT_DOC_ISSUED_BY",
    "RQ_IDENT_DOC_DEP_CODE",
    "RQ_INN",
    "RQ_KPP",
    "RQ_USRLE",
    "RQ_IFNS",
    "RQ_OGRN",
    "RQ_OGRNIP",
    "RQ_OKPO",
    "RQ_OKTMO",
    "RQ_OKVED",
    "RQ_EDRPOU",
    "RQ_DRFO",
    "RQ_KBE",
    "RQ_IIN",
    "RQ_BIN",
    "RQ_ST_CERT_SER",
    "RQ_ST_CERT_NUM",
    "RQ_ST_CERT_DATE",
    "RQ_VAT_PAYER",
    "RQ_VAT_ID",
    "RQ_VAT_CERT_SER",
    "RQ_VAT_CERT_NUM",
    "RQ_VAT_CERT_DATE",
    "RQ_RESIDENCE_COUNTRY",
    "RQ_BASE_DOC",
    "RQ_REGON",
    "RQ_KRS",
    "RQ_PESEL",
    "RQ_LEGAL_FORM",
    "RQ_SIRET",
    "RQ_SIREN",
    "RQ_CAPITAL",
    "RQ_RCS",
    "RQ_CNPJ",
    "RQ_STATE_REG",
    "RQ_MNPL_REG",
    "RQ_CPF",
]

REQUISITE = crm_entity.crm_spec(
    "requisite",
    "requisites",
    [
        F("ID", "integer", read_only=True),
        F("ENTITY_TYPE_ID", "integer", required=True, immutable=True),
        F("ENTITY_ID", "integer", required=True, immutable=True),
        F("PRESET_ID", "integer", required=True),
        F("DATE_CREATE", "datetime", read_only=True),
        FieldDef("DATE_MODIFY", "datetime", "Date Modify", read_only=True, empty=""),
        F("CREATED_BY_ID", "user", read_only=True),
        F("MODIFY_BY_ID", "user", read_only=True),
        F("NAME", "string", required=True),
        F("CODE", "string"),
        F("XML_ID", "string"),
        F("ORIGINATOR_ID", "string"),
        F("ACTIVE", "char"),
        F("ADDRESS_ONLY", "char"),
        F("SORT", "integer"),
        *[F(name, "char" if name == "RQ_VAT_PAYER" else "string") for name in RQ_FIELDS],
    ],
)


def _add(call: Call) -> int:
    portal = call.portal
    fields = {str(k).upper(): v for k, v in call.fields().items()}
    entity_type = str(fields.get("ENTITY_TYPE_ID", ""))
    if entity_type not in ("3", "4"):
        raise errors.legacy("ENTITY_TYPE_ID is not defined or invalid.")
    entity_id = numbers.digits(fields.get("ENTITY_ID", ""))
    if entity_id is None:
        raise errors.legacy("ENTITY_ID is not defined or invalid.")
    owner_table = "contacts" if entity_type == "3" else "companies"
    if portal.table(owner_table).get(entity_id) is None:
        raise errors.legacy("Entity not found.")
    preset_id = numbers.digits(fields.get("PRESET_ID", ""))
    if preset_id is None or portal.table("presets").get(preset_id) is None:
        raise errors.legacy("PRESET_ID is not defined or invalid.")
    if not fields.get("NAME"):
        raise errors.legacy("NAME is not defined.")
    table = portal.table("requisites")
    requisite_id = table.new_id()
    record: dict[str, Any] = {
        "ID": requisite_id,
        "ACTIVE": "Y",
        "ADDRESS_ONLY": "N",
        "SORT": 500,
        "RQ_VAT_PAYER": "N",
    }
    crm_entity.apply_fields(call, REQUISITE, record, fields, creating=True)
    record["DATE_CREATE"] = crm_entity.now_text(portal)
    record["CREATED_BY_ID"] = call.user_id
    table.put(requisite_id, record)
    crm_entity.emit(call, REQUISITE, "ADD", requisite_id)
    return requisite_id


def _update(call: Call) -> bool:
    requisite_id = crm_entity.require_id(call)
    record = crm_entity.load(call, REQUISITE, requisite_id)
    fields = {str(k).upper(): v for k, v in call.fields().items()}
    if "PRESET_ID" in fields and call.portal.table("presets").get(fields["PRESET_ID"]) is None:
        raise errors.legacy("PRESET_ID is not defined or invalid.")
    crm_entity.apply_fields(call, REQUISITE, record, fields, creating=False)
    crm_entity.stamp_update(call, record)
    crm_entity.emit(call, REQUISITE, "UPDATE", requisite_id)
    return True


def _delete_addresses(call: Call, requisite_id: int) -> None:
    addresses = call.portal.table("addresses")
    for address in addresses.values():
        if address["ENTITY_TYPE_ID"] == 8 and address["ENTITY_ID"] == requisite_id:
            addresses.delete(_address_key(address))


crm_entity.register(
    REQUISITE, add=_add, update=_update, cascade_delete=_delete_addresses, userfield_methods=("add", "list")
)


# -- presets -----------------------------------------------------------------------------------
_PRESET_FIELDS = {
    "ID": "number",
    "ENTITY_TYPE_ID": "number",
    "COUNTRY_ID": "number",
    "SORT": "number",
    "CREATED_BY_ID": "number",
    "MODIFY_BY_ID": "number",
}


@method("crm.requisite.preset.list")
def preset_list(call: Call) -> Result:
    portal = call.portal

    def kind_of(name: str) -> str:
        return _PRESET_FIELDS.get(name, "string")

    rows = list(portal.table("presets").values())
    rows = query.apply_filter(
        rows, query.parse_filter(call.param("filter"), str.upper), kind_of, portal.config.tz
    )
    rows = query.apply_order(
        rows, query.parse_order(call.param("order"), str.upper) or [("ID", False)], kind_of, portal.config.tz
    )
    select = call.param("select")
    names = [str(s).upper() for s in select] if isinstance(select, list) and select else None
    out = []
    for row in rows:
        rendered = {k: (None if v is None else str(v)) for k, v in row.items()}
        out.append({k: rendered.get(k) for k in names} if names else rendered)
    return Result(out, len(out))


@method("crm.requisite.preset.countries")
def preset_countries(call: Call) -> list[dict[str, Any]]:
    countries = [(1, "RU", "Россия"), (4, "BY", "Беларусь"), (6, "KZ", "Казахстан"), (14, "UA", "Украина")]
    countries += [(46, "DE", "Германия"), (122, "US", "США")]
    return [{"ID": cid, "CODE": code, "TITLE": title} for cid, code, title in countries]


# -- addresses ---------------------------------------------------------------------------------
ADDRESS_TYPES = {
    11: "Адрес доставки",
    1: "Фактический адрес",
    6: "Юридический адрес",
    4: "Адрес регистрации",
    8: "Адрес для корреспонденции",
    9: "Адрес бенефициара",
}
_ADDRESS_TEXT = (
    "ADDRESS_1",
    "ADDRESS_2",
    "CITY",
    "POSTAL_CODE",
    "REGION",
    "PROVINCE",
    "COUNTRY",
    "COUNTRY_CODE",
)
_ADDRESS_FIELDS = [F(n, "integer") for n in ("TYPE_ID", "ENTITY_TYPE_ID", "ENTITY_ID")] + [
    *[F(n, "string") for n in _ADDRESS_TEXT],
    F("LOC_ADDR_ID", "integer"),
    F("ANCHOR_TYPE_ID", "integer"),
    F("ANCHOR_ID", "integer"),
]


def _address_key(row: Mapping[str, Any]) -> str:
    return f"{row['TYPE_ID']}:{row['ENTITY_TYPE_ID']}:{row['ENTITY_ID']}"


def _address_key_fields(call: Call) -> tuple[dict[str, Any], int, int, int]:
    fields = {str(k).upper(): v for k, v in call.fields().items()}
    type_id = numbers.digits(fields.get("TYPE_ID", ""))
    if type_id is None or type_id not in ADDRESS_TYPES:
        raise errors.legacy("TYPE_ID is not defined or invalid.")
    if str(fields.get("ENTITY_TYPE_ID", "")) != "8":
        # Modern portals keep addresses on requisites (8); leads (1) are not emulated.
        raise errors.legacy("ENTITY_TYPE_ID is not defined or invalid.")
    entity_id = numbers.digits(fields.get("ENTITY_ID", ""))
    if entity_id is None:
        raise errors.legacy("ENTITY_ID is not defined or invalid.")
    return fields, type_id, 8, entity_id


def _render_address(row: Mapping[str, Any]) -> dict[str, Any]:
    return {fd.name: render(fd, row.get(fd.name)) for fd in _ADDRESS_FIELDS}


@method("crm.address.add")
def address_add(call: Call) -> bool:
    fields, type_id, entity_type, entity_id = _address_key_fields(call)
    requisite = call.portal.table("requisites").get(entity_id)
    if requisite is None:
        raise errors.legacy("ENTITY_ID is not defined or invalid.")
    table = call.portal.table("addresses")
    row: dict[str, Any] = {"TYPE_ID": type_id, "ENTITY_TYPE_ID": entity_type, "ENTITY_ID": entity_id}
    if table.get(_address_key(row)) is not None:
        raise errors.legacy("TypeAddress exists")
    for name in _ADDRESS_TEXT:
        value = fields.get(name)
        row[name] = None if value in (None, "") else str(value)
    row["LOC_ADDR_ID"] = table.new_id()
    row["ANCHOR_TYPE_ID"] = requisite["ENTITY_TYPE_ID"]
    row["ANCHOR_ID"] = requisite["ENTITY_ID"]
    table.put(_address_key(row), row)
    return True


@method("crm.address.update")
def address_update(call: Call) -> bool:
    fields, type_id, entity_type, entity_id = _address_key_fields(call)
    table = call.portal.table("addresses")
    row = table.get(f"{type_id}:{entity_type}:{entity_id}")
    if row is None:
        raise errors.legacy("Not found")
    for name in _ADDRESS_TEXT:
        if name in fields:
            value = fields[name]
            row[name] = None if value in (None, "") else str(value)
    return True


@method("crm.address.delete")
def address_delete(call: Call) -> bool:
    _, type_id, entity_type, entity_id = _address_key_fields(call)
    if call.portal.table("addresses").delete(f"{type_id}:{entity_type}:{entity_id}") is None:
        raise errors.legacy("Not found")
    return True


@method("crm.address.list")
def address_list(call: Call) -> Result:
    portal = call.portal

    def kind_of(name: str) -> str:
        return (
            "number"
            if name in ("TYPE_ID", "ENTITY_TYPE_ID", "ENTITY_ID", "ANCHOR_TYPE_ID", "ANCHOR_ID")
            else "string"
        )

    rows = list(portal.table("addresses").values())
    rows = query.apply_filter(
        rows, query.parse_filter(call.param("filter"), str.upper), kind_of, portal.config.tz
    )
    ordering = query.parse_order(call.param("order"), str.upper) or [("ENTITY_ID", False), ("TYPE_ID", False)]
    rows = query.apply_order(rows, ordering, kind_of, portal.config.tz)
    page = query.paginate(rows, query.parse_start(call.param("start")))
    select = call.param("select")
    out = [_render_address(r) for r in page.rows]
    if isinstance(select, list) and select:
        names = [str(s).upper() for s in select]
        out = [{k: v for k, v in r.items() if k in names} for r in out]
    return Result(out, page.total, page.next)


@method("crm.enum.addresstype")
def enum_addresstype(call: Call) -> list[dict[str, Any]]:
    return [
        {"ID": k, "NAME": v, "SYMBOL_CODE": None, "SYMBOL_CODE_SHORT": None} for k, v in ADDRESS_TYPES.items()
    ]
