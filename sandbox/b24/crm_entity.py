"""Shared machinery of the legacy crm.* entities (deal, company, contact, requisite):
storage, user fields, multifields, select masks, list paging, events."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sandbox.b24 import clock, errors, numbers, query
from sandbox.b24.fields import FieldDef, kind_of_type, normalize, render
from sandbox.b24.registry import Call, Handler, Result, method
from sandbox.b24.state import Portal

MULTIFIELD_TYPES = ("PHONE", "EMAIL", "WEB", "IM", "LINK")
_UF_NAME = re.compile(r"^[A-Z0-9_]+$")


@dataclass
class EntitySpec:
    name: str  # "deal"
    table: str  # "deals"
    uf_entity: str  # "CRM_DEAL"
    event_prefix: str | None  # "ONCRMDEAL"
    fields: dict[str, FieldDef]
    multifields: tuple[str, ...] = ()
    # Keys that appear in `get` but are computed on read (e.g. HAS_PHONE).
    computed: dict[str, Callable[[Portal, dict[str, Any]], Any]] = field(default_factory=dict)


def crm_spec(name: str, table: str, fields: list[FieldDef], **extra: Any) -> EntitySpec:
    """The spec of `crm.<name>.*`: user fields under CRM_<NAME>, events ONCRM<NAME>ADD/UPDATE/DELETE."""
    upper = name.upper()
    return EntitySpec(
        name=name,
        table=table,
        uf_entity=f"CRM_{upper}",
        event_prefix=f"ONCRM{upper}",
        fields={fd.name: fd for fd in fields},
        **extra,
    )


def now_text(portal: Portal) -> str:
    return clock.iso(clock.now(portal.config.tz))


# -- user fields -------------------------------------------------------------------------------
def userfields(portal: Portal, spec: EntitySpec) -> dict[str, dict[str, Any]]:
    return {
        row["FIELD_NAME"]: row
        for row in portal.table("userfields").values()
        if row["ENTITY_ID"] == spec.uf_entity
    }


def _uf_storage_type(uf: Mapping[str, Any]) -> str:
    mapping = {"integer": "integer", "double": "double", "enumeration": "enumeration", "boolean": "boolean"}
    mapping |= {"date": "date", "datetime": "datetime", "employee": "integer", "iblock_element": "integer"}
    mapping |= {"iblock_section": "integer", "file": "integer"}
    return mapping.get(uf["USER_TYPE_ID"], "string")


def _render_uf(uf: Mapping[str, Any], value: Any) -> Any:
    if uf["MULTIPLE"] == "Y":
        values = value if isinstance(value, list) else ([] if value is None else [value])
        return [_render_uf_scalar(uf, v) for v in values]
    return _render_uf_scalar(uf, value)


def _render_uf_scalar(uf: Mapping[str, Any], value: Any) -> Any:
    storage = _uf_storage_type(uf)
    if value is None:
        return "" if storage == "string" else None
    if isinstance(value, float) and value.is_integer() and storage != "double":
        value = int(value)
    return str(value)


def normalize_uf(portal: Portal, uf: Mapping[str, Any], value: Any) -> Any:
    storage = _uf_storage_type(uf)
    tz = portal.config.tz
    if uf["MULTIPLE"] == "Y":
        values = value if isinstance(value, list) else [value]
        return [normalize(storage, v, tz) for v in values if v not in (None, "")]
    if isinstance(value, list):
        value = value[0] if value else None
    return normalize(storage, value, tz)


def normalize_uf_name(raw: Any) -> str:
    """`NOTE` → `UF_CRM_NOTE`, `UF_NOTE` → `UF_CRM_NOTE`, `UF_CRM_NOTE` kept (README §4.4)."""
    name = str(raw or "").strip().upper()
    if name.startswith("UF_CRM_"):
        return name
    if name.startswith("UF_"):
        return "UF_CRM_" + name[3:]
    return "UF_CRM_" + name


# -- schema helpers ----------------------------------------------------------------------------
def kind_resolver(portal: Portal, spec: EntitySpec) -> Callable[[str], str]:
    ufs = userfields(portal, spec)

    def kind_of(name: str) -> str:
        if name in spec.multifields:
            return "multi"
        if name in spec.fields:
            return kind_of_type(spec.fields[name].type)
        if name in ufs:
            return kind_of_type(_uf_storage_type(ufs[name]))
        if name.endswith("_ID") or name == "ID":
            return "number"
        return "string"

    return kind_of


# -- write path --------------------------------------------------------------------------------
def apply_fields(
    call: Call, spec: EntitySpec, record: dict[str, Any], fields: Mapping[str, Any], *, creating: bool
) -> set[str]:
    """Copy known writable fields into `record`; unknown names are silently ignored (README §1.2)."""
    portal = call.portal
    tz = portal.config.tz
    ufs = userfields(portal, spec)
    changed: set[str] = set()
    for raw_name, value in fields.items():
        name = str(raw_name).upper()
        if name in spec.multifields:
            _apply_multifield(portal, record, name, value, creating=creating)
            changed.add(name)
            continue
        if name in ufs:
            record[name] = normalize_uf(portal, ufs[name], value)
            changed.add(name)
            continue
        fd = spec.fields.get(name)
        if fd is None or fd.read_only or (fd.immutable and not creating) or fd.multiple:
            continue
        record[name] = normalize(fd.type, value, tz)
        changed.add(name)
    return changed


def _apply_multifield(
    portal: Portal, record: dict[str, Any], type_id: str, value: Any, *, creating: bool
) -> None:
    """Item with ID changes (or deletes when DELETE=Y / empty VALUE / ID alone); without ID appends."""
    items = value if isinstance(value, list) else list(value.values()) if isinstance(value, Mapping) else []
    current: list[dict[str, Any]] = [] if creating else list(record.get(type_id) or [])
    for item in items:
        if not isinstance(item, Mapping):
            continue
        item_id = item.get("ID")
        text = item.get("VALUE")
        if item_id not in (None, "") and not creating:
            existing = next((m for m in current if m["ID"] == str(item_id)), None)
            if existing is None:
                continue
            if str(item.get("DELETE", "")).upper() == "Y" or text in (None, ""):
                current.remove(existing)
                continue
            existing["VALUE"] = str(text)
            existing["VALUE_TYPE"] = str(item.get("VALUE_TYPE") or existing["VALUE_TYPE"])
            continue
        if text in (None, ""):
            continue
        new_id = portal.table("multifields").new_id()
        current.append(
            {
                "ID": str(new_id),
                "VALUE_TYPE": str(item.get("VALUE_TYPE") or "WORK"),
                "VALUE": str(text),
                "TYPE_ID": type_id,
            }
        )
    record[type_id] = current


def stamp_create(call: Call, record: dict[str, Any]) -> None:
    moment = now_text(call.portal)
    record.setdefault("DATE_CREATE", moment)
    record["DATE_MODIFY"] = moment
    record["CREATED_BY_ID"] = call.user_id
    record["MODIFY_BY_ID"] = call.user_id
    if record.get("ASSIGNED_BY_ID") is None and "ASSIGNED_BY_ID" in record:
        record["ASSIGNED_BY_ID"] = call.user_id


def stamp_update(call: Call, record: dict[str, Any]) -> None:
    record["DATE_MODIFY"] = now_text(call.portal)
    record["MODIFY_BY_ID"] = call.user_id


# -- read path ---------------------------------------------------------------------------------
def require_id(call: Call, message: str = "ID is not defined or invalid.") -> int:
    raw = call.param("id")
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        raise errors.legacy(message) from None
    if value <= 0:
        raise errors.legacy(message)
    return value


def load(call: Call, spec: EntitySpec, entity_id: int) -> dict[str, Any]:
    record = call.portal.table(spec.table).get(entity_id)
    if record is None:
        raise errors.legacy("Not found")
    return record


def render_record(
    portal: Portal, spec: EntitySpec, record: Mapping[str, Any], names: list[str]
) -> dict[str, Any]:
    ufs = userfields(portal, spec)
    row: dict[str, Any] = {}
    for name in names:
        if name in spec.multifields:
            items = record.get(name) or []
            row[name] = [dict(m) for m in items]
        elif name in spec.computed:
            row[name] = spec.computed[name](portal, dict(record))
        elif name in ufs:
            row[name] = _render_uf(ufs[name], record.get(name))
        elif name in spec.fields:
            row[name] = render(spec.fields[name], record.get(name))
    return row


def full_names(portal: Portal, spec: EntitySpec, record: Mapping[str, Any]) -> list[str]:
    """`get`: every standard single field, user fields, and non-empty multifields."""
    names = [n for n, fd in spec.fields.items() if not fd.multiple]
    names += list(userfields(portal, spec))
    names += [m for m in spec.multifields if record.get(m)]
    return names


def select_names(portal: Portal, spec: EntitySpec, select: Any) -> list[str]:
    """`*` = standard non-multiple fields, `UF_*` = user fields, default both; ID always included;
    multifields only when named (README §4.1, §5.3)."""
    wanted = [str(s).upper() for s in select] if isinstance(select, list) and select else ["*", "UF_*"]
    ufs = list(userfields(portal, spec))
    names: list[str] = []
    extras: list[str] = []
    for item in wanted:
        if item == "*":
            names += [n for n, fd in spec.fields.items() if not fd.multiple and n not in spec.computed]
        elif item == "UF_*":
            extras += ufs
        elif item in spec.multifields:
            extras.append(item)
        elif item in spec.fields or item in ufs or item in spec.computed:
            names.append(item)
    if "ID" not in names:
        names.append("ID")
    return list(dict.fromkeys(names + extras))


def list_rows(call: Call, spec: EntitySpec, base: list[dict[str, Any]] | None = None) -> Result:
    portal = call.portal
    filter_ = call.param("filter")
    if filter_ is not None and not isinstance(filter_, Mapping | list):
        raise errors.legacy("Parameter 'filter' must be array.")
    order = call.param("order")
    if order is not None and not isinstance(order, Mapping | list):
        raise errors.legacy("Parameter 'order' must be array.")
    kind_of = kind_resolver(portal, spec)
    rows = base if base is not None else list(portal.table(spec.table).values())
    conditions = query.parse_filter(filter_, str.upper)
    known = set(spec.fields) | set(spec.multifields) | set(userfields(portal, spec))
    # Filters on unknown fields are ignored, like unknown field names elsewhere.
    conditions = [c for c in conditions if c.field in known]
    rows = query.apply_filter(rows, conditions, kind_of, portal.config.tz)
    ordering = query.parse_order(order, str.upper) or [("ID", False)]
    rows = query.apply_order(rows, ordering, kind_of, portal.config.tz)
    page = query.paginate(rows, query.parse_start(call.param("start")))
    names = select_names(portal, spec, call.param("select"))
    return Result([render_record(portal, spec, r, names) for r in page.rows], page.total, page.next)


def describe_fields(portal: Portal, spec: EntitySpec) -> dict[str, Any]:
    out = {name: fd.describe() for name, fd in spec.fields.items()}
    for m in spec.multifields:
        out[m] = {
            "type": "crm_multifield",
            "isRequired": False,
            "isReadOnly": False,
            "isImmutable": False,
            "isMultiple": True,
            "isDynamic": False,
            "title": m.title(),
        }
    for name, uf in userfields(portal, spec).items():
        label = uf.get("EDIT_FORM_LABEL") or name
        out[name] = {
            "type": uf["USER_TYPE_ID"],
            "isRequired": uf["MANDATORY"] == "Y",
            "isReadOnly": False,
            "isImmutable": False,
            "isMultiple": uf["MULTIPLE"] == "Y",
            "isDynamic": True,
            "title": name,
            "listLabel": label,
            "formLabel": label,
            "filterLabel": label,
        }
        if uf["USER_TYPE_ID"] == "enumeration":
            out[name]["items"] = [{"ID": str(i["ID"]), "VALUE": i["VALUE"]} for i in uf.get("LIST", [])]
    return out


# -- crm.<entity>.userfield.* ------------------------------------------------------------------
_UF_TYPES = frozenset(
    {
        "string",
        "integer",
        "double",
        "boolean",
        "datetime",
        "date",
        "money",
        "url",
        "address",
        "enumeration",
        "file",
        "employee",
        "crm_status",
        "iblock_section",
        "iblock_element",
        "crm",
    }
)


def userfield_add(call: Call, spec: EntitySpec) -> int:
    portal = call.portal
    fields = call.fields()
    fields = {str(k).upper(): v for k, v in fields.items()}
    if not fields.get("FIELD_NAME"):
        raise errors.legacy("The 'FIELD_NAME' field is not found.")
    if not fields.get("USER_TYPE_ID"):
        raise errors.legacy("The 'USER_TYPE_ID' field is not found.")
    name = normalize_uf_name(fields["FIELD_NAME"])
    if len(name) > 50:
        raise errors.core("Field name is too long (more than 50 characters).")
    if not _UF_NAME.match(name):
        raise errors.core("The field name may contain only Latin letters, digits and the underscore.")
    if name in userfields(portal, spec):
        raise errors.core(f"A field with the name {name} already exists.")
    user_type = str(fields["USER_TYPE_ID"])
    if user_type not in _UF_TYPES:
        raise errors.core("Incorrect custom type specified.")
    label = fields.get("LABEL")
    table = portal.table("userfields")
    uf_id = table.new_id()

    def label_of(key: str) -> Any:
        value = fields.get(key, label)
        if isinstance(value, Mapping):
            return value.get("ru") or value.get("en") or next(iter(value.values()), None)
        return value

    row: dict[str, Any] = {
        "ID": uf_id,
        "ENTITY_ID": spec.uf_entity,
        "FIELD_NAME": name,
        "USER_TYPE_ID": user_type,
        "XML_ID": fields.get("XML_ID"),
        "SORT": numbers.whole(fields.get("SORT"), 100),
        "MULTIPLE": "N"
        if user_type == "boolean"
        else ("Y" if str(fields.get("MULTIPLE", "N")).upper() == "Y" else "N"),
        "MANDATORY": "Y" if str(fields.get("MANDATORY", "N")).upper() == "Y" else "N",
        "SHOW_FILTER": str(fields.get("SHOW_FILTER", "N")),
        "SHOW_IN_LIST": str(fields.get("SHOW_IN_LIST", "Y")),
        "EDIT_IN_LIST": str(fields.get("EDIT_IN_LIST", "Y")),
        "IS_SEARCHABLE": str(fields.get("IS_SEARCHABLE", "N")),
        "SETTINGS": fields.get("SETTINGS") if isinstance(fields.get("SETTINGS"), Mapping) else {},
        "EDIT_FORM_LABEL": label_of("EDIT_FORM_LABEL"),
        "LIST_COLUMN_LABEL": label_of("LIST_COLUMN_LABEL"),
        "LIST_FILTER_LABEL": label_of("LIST_FILTER_LABEL"),
        "ERROR_MESSAGE": label_of("ERROR_MESSAGE") if "ERROR_MESSAGE" in fields else None,
        "HELP_MESSAGE": label_of("HELP_MESSAGE") if "HELP_MESSAGE" in fields else None,
    }
    if user_type == "enumeration":
        row["SETTINGS"] = {
            "DISPLAY": "LIST",
            "LIST_HEIGHT": 1,
            "CAPTION_NO_VALUE": "",
            "SHOW_NO_VALUE": "Y",
        } | row["SETTINGS"]
        items = fields.get("LIST") or []
        items = list(items.values()) if isinstance(items, Mapping) else items
        row["LIST"] = []
        seen_xml: set[str] = set()
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or not item.get("VALUE"):
                continue
            enum_id = portal.table("userfield_enums").new_id()
            xml_id = str(item.get("XML_ID") or f"{name}_{enum_id}")
            if xml_id in seen_xml:
                raise errors.core(f"Duplicate XML_ID {xml_id} in LIST.")
            seen_xml.add(xml_id)
            row["LIST"].append(
                {
                    "ID": enum_id,
                    "SORT": numbers.whole(item.get("SORT"), (index + 1) * 10),
                    "VALUE": str(item["VALUE"]),
                    "DEF": "Y" if str(item.get("DEF", "N")).upper() == "Y" else "N",
                    "XML_ID": xml_id,
                }
            )
    table.put(uf_id, row)
    return uf_id


def _render_userfield(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: (str(v) if k in ("ID", "SORT") else v) for k, v in row.items() if k != "LIST"}
    if "LIST" in row:
        out["LIST"] = [{k: (str(v) if k in ("ID", "SORT") else v) for k, v in i.items()} for i in row["LIST"]]
    return out


def userfield_list(call: Call, spec: EntitySpec) -> Result:
    portal = call.portal
    rows = [r for r in portal.table("userfields").values() if r["ENTITY_ID"] == spec.uf_entity]
    conditions = [c for c in query.parse_filter(call.param("filter"), str.upper) if c.field != "LANG"]

    def kind_of(name: str) -> str:
        return "number" if name in ("ID", "SORT") else "string"

    rows = query.apply_filter(rows, conditions, kind_of, portal.config.tz)
    ordering = query.parse_order(call.param("order"), str.upper) or [("SORT", False), ("ID", False)]
    rows = query.apply_order(rows, ordering, kind_of, portal.config.tz)
    return Result([_render_userfield(r) for r in rows], len(rows))


def userfield_get(call: Call, spec: EntitySpec) -> dict[str, Any]:
    row = call.portal.table("userfields").get(require_id(call))
    if row is None or row["ENTITY_ID"] != spec.uf_entity:
        raise errors.legacy("Not found")
    return _render_userfield(row)


def userfield_delete(call: Call, spec: EntitySpec) -> bool:
    uf_id = require_id(call)
    row = call.portal.table("userfields").get(uf_id)
    if row is None or row["ENTITY_ID"] != spec.uf_entity:
        raise errors.legacy("Not found")
    call.portal.table("userfields").delete(uf_id)
    for record in call.portal.table(spec.table).values():
        record.pop(row["FIELD_NAME"], None)
    return True


def emit(call: Call, spec: EntitySpec, suffix: str, entity_id: int) -> None:
    if spec.event_prefix:
        call.emit(f"{spec.event_prefix}{suffix}", {"ID": str(entity_id)})


# -- links kept on an owner record (deal → contacts, contact → companies) -----------------------
@dataclass(frozen=True)
class Binding:
    """`crm.<owner>.<other>.items.get|set`: ordered links stored on the owner record under `slot`;
    the primary link's id is mirrored into the owner's single-value field `key`."""

    owner: EntitySpec
    other: str  # "contact": the method segment
    key: str  # "CONTACT_ID": the linked id's name in an item and the mirrored field
    slot: str  # "_contacts": where the links live on the owner record

    def sorted_links(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        return sorted(record.get(self.slot, []), key=lambda link: link["SORT"])

    def sync_primary(self, record: dict[str, Any]) -> None:
        links = self.sorted_links(record)
        primary = next((link for link in links if link["IS_PRIMARY"] == "Y"), links[0] if links else None)
        record[self.key] = primary[self.key] if primary else None

    def set_ids(self, record: dict[str, Any], ids: list[int]) -> None:
        """Links to `ids` in that order (duplicates dropped), the first one primary."""
        record[self.slot] = [
            {self.key: linked, "SORT": (i + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if i == 0 else "N"}
            for i, linked in enumerate(dict.fromkeys(ids))
        ]
        self.sync_primary(record)

    def items_get(self, call: Call) -> list[dict[str, Any]]:
        record = load(call, self.owner, require_id(call))
        return [dict(link) for link in self.sorted_links(record)]

    def items_set(self, call: Call) -> bool:
        owner_id = require_id(call)
        record = load(call, self.owner, owner_id)
        items = call.param("items") or []
        items = list(items.values()) if isinstance(items, Mapping) else items
        if not isinstance(items, list):
            raise errors.legacy("The parameter 'items' is invalid.")
        links = []
        for index, item in enumerate(items):
            linked = numbers.digits(item.get(self.key, "")) if isinstance(item, Mapping) else None
            if linked is None:
                raise errors.legacy("The parameter 'items' is invalid.")
            links.append(
                {
                    self.key: linked,
                    "SORT": numbers.whole(item.get("SORT"), (index + 1) * 10),
                    "ROLE_ID": 0,
                    "IS_PRIMARY": "Y" if str(item.get("IS_PRIMARY", "N")).upper() == "Y" else "N",
                }
            )
        if links and not any(link["IS_PRIMARY"] == "Y" for link in links):
            min(links, key=lambda link: link["SORT"])["IS_PRIMARY"] = "Y"
        record[self.slot] = links
        self.sync_primary(record)
        stamp_update(call, record)
        emit(call, self.owner, "UPDATE", owner_id)
        return True


# -- one registration per entity ---------------------------------------------------------------
USERFIELD_METHODS: dict[str, Callable[[Call, EntitySpec], Any]] = {
    "add": userfield_add,
    "list": userfield_list,
    "get": userfield_get,
    "delete": userfield_delete,
}


def get_record(call: Call, spec: EntitySpec) -> dict[str, Any]:
    record = load(call, spec, require_id(call))
    return render_record(call.portal, spec, record, full_names(call.portal, spec, record))


def delete_record(call: Call, spec: EntitySpec, cascade: Callable[[Call, int], None] | None) -> bool:
    entity_id = require_id(call)
    load(call, spec, entity_id)
    call.portal.table(spec.table).delete(entity_id)
    if cascade is not None:
        cascade(call, entity_id)
    emit(call, spec, "DELETE", entity_id)
    return True


def _userfield(operation: Callable[[Call, EntitySpec], Any], spec: EntitySpec, call: Call) -> Any:
    return operation(call, spec)


def register(
    spec: EntitySpec,
    *,
    add: Handler,
    update: Handler,
    cascade_delete: Callable[[Call, int], None] | None = None,
    userfield_methods: tuple[str, ...] = ("add", "list", "get", "delete"),
    bindings: tuple[Binding, ...] = (),
) -> None:
    """Registers `crm.<name>.add|get|list|update|delete|fields`, its `userfield.*` methods and the
    item-binding methods; only writing is the entity's own (`add`, `update`) plus what a delete
    takes with it."""
    prefix = f"crm.{spec.name}"
    method(f"{prefix}.add")(add)
    method(f"{prefix}.update")(update)
    method(f"{prefix}.get")(lambda call: get_record(call, spec))
    method(f"{prefix}.list")(lambda call: list_rows(call, spec))
    method(f"{prefix}.delete")(lambda call: delete_record(call, spec, cascade_delete))
    method(f"{prefix}.fields")(lambda call: describe_fields(call.portal, spec))
    for verb in userfield_methods:
        method(f"{prefix}.userfield.{verb}")(partial(_userfield, USERFIELD_METHODS[verb], spec))
    for binding in bindings:
        method(f"{prefix}.{binding.other}.items.get")(binding.items_get)
        method(f"{prefix}.{binding.other}.items.set")(binding.items_set)
