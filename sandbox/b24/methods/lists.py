"""Universal lists (`lists.*`) as `bitrix24/b24restdocs:api-reference/lists/` documents them.

Lists live in `lists` (by iblock id), their custom fields in `list_fields` (by property id, ids
shared by all lists like iblock properties), elements in `list_elements`. Unsettled by the docs
and recorded in docs/sandbox-b24.md ("needs a live check"): the key of `lists.field.get`'s answer
(the docs' sample keys it by type, `"L"`; here by FIELD_ID), the input formats of `S:Date`,
`S:Money` and `S:ECrm` values (stored as sent), the exact `ERROR_REQUIRED_PARAMETERS_MISSING` text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.b24 import clock, errors, numbers, query
from sandbox.b24.registry import Call, Result, method

IBLOCK_TYPES = ("lists", "bitrix_processes", "lists_socnet")
FIELD_TYPES = frozenset(
    {
        "S",
        "N",
        "L",
        "F",
        "G",
        "E",
        "S:Date",
        "S:DateTime",
        "S:HTML",
        "E:EList",
        "N:Sequence",
        "S:ECrm",
        "S:Money",
        "S:DiskFile",
        "S:employee",
    }
)
SYSTEM_FIELDS = frozenset(
    {
        "SORT",
        "ACTIVE_FROM",
        "ACTIVE_TO",
        "PREVIEW_PICTURE",
        "PREVIEW_TEXT",
        "DETAIL_PICTURE",
        "DETAIL_TEXT",
        "DATE_CREATE",
        "CREATED_BY",
        "TIMESTAMP_X",
        "MODIFIED_BY",
    }
)
_PAGE = 50


def _missing(name: str) -> errors.B24Error:
    text = f"Required parameter `{name}` is missing"
    return errors.B24Error("ERROR_REQUIRED_PARAMETERS_MISSING", text, 400)


def _not_found() -> errors.B24Error:
    return errors.B24Error("ERROR_IBLOCK_NOT_FOUND", "Iblock not found", 400)


def _iblock_type(call: Call) -> str:
    value = str(call.param("iblock_type_id") or "")
    if not value:
        raise _missing("IBLOCK_TYPE_ID")
    if value not in IBLOCK_TYPES:
        raise _not_found()
    return value


def _find_list(call: Call, iblock_type: str, *, required: bool = True) -> dict[str, Any] | None:
    """The list named by IBLOCK_ID or IBLOCK_CODE within the type."""
    iblock_id = call.param("iblock_id")
    code = call.param("iblock_code")
    if iblock_id in (None, "") and not code:
        if required:
            raise _missing("IBLOCK_ID")
        return None
    for row in call.portal.table("lists").values():
        if row["IBLOCK_TYPE_ID"] != iblock_type:
            continue
        if (iblock_id not in (None, "") and str(row["ID"]) == str(iblock_id)) or (
            iblock_id in (None, "") and row["CODE"] == str(code)
        ):
            return row
    raise _not_found()


def _admin(call: Call) -> None:
    user = call.portal.table("users").get(call.user_id)
    if user is not None and not user.get("_ADMIN"):
        raise errors.B24Error("ACCESS_DENIED", "Access denied", 403)


@method("lists.add")
def lists_add(call: Call) -> int:
    iblock_type = _iblock_type(call)
    code = str(call.param("iblock_code") or "")
    if not code:
        raise _missing("IBLOCK_CODE")
    fields = call.param("fields")
    if not isinstance(fields, Mapping) or not str(fields.get("NAME") or "").strip():
        raise _missing("FIELDS[NAME]")
    _admin(call)
    table = call.portal.table("lists")
    if any(r["IBLOCK_TYPE_ID"] == iblock_type and r["CODE"] == code for r in table.values()):
        raise errors.B24Error("ERROR_IBLOCK_ALREADY_EXISTS", "Iblock already exists", 400)
    new_id = table.new_id()
    messages = call.param("messages")
    messages = dict(messages) if isinstance(messages, Mapping) else {}
    table.put(
        new_id,
        {
            "ID": new_id,
            "TIMESTAMP_X": clock.iso(clock.now(call.portal.config.tz)),
            "IBLOCK_TYPE_ID": iblock_type,
            "CODE": code,
            "NAME": str(fields["NAME"]),
            "ACTIVE": "Y",
            "SORT": str(fields.get("SORT") or 500),
            "DESCRIPTION": str(fields.get("DESCRIPTION") or ""),
            "BIZPROC": "Y" if str(fields.get("BIZPROC") or "N").upper() == "Y" else "N",
            "SOCNET_GROUP_ID": str(call.param("socnet_group_id") or "") or None,
            "ELEMENTS_NAME": messages.get("ELEMENTS_NAME", "Элементы"),
            "ELEMENT_NAME": messages.get("ELEMENT_NAME", "Элемент"),
            "SECTIONS_NAME": messages.get("SECTIONS_NAME", "Разделы"),
            "SECTION_NAME": messages.get("SECTION_NAME", "Раздел"),
        },
    )
    return new_id


def _list_out(row: Mapping[str, Any]) -> dict[str, Any]:
    # lists.get prints every value as a string (the docs' sample), ids included.
    return {k: (str(v) if isinstance(v, int) else v) for k, v in row.items()}


@method("lists.get")
def lists_get(call: Call) -> Result:
    iblock_type = _iblock_type(call)
    rows = [r for r in call.portal.table("lists").values() if r["IBLOCK_TYPE_ID"] == iblock_type]
    iblock_id, code = call.param("iblock_id"), call.param("iblock_code")
    if iblock_id not in (None, ""):
        rows = [r for r in rows if str(r["ID"]) == str(iblock_id)]
    elif code:
        rows = [r for r in rows if r["CODE"] == str(code)]
    rows.sort(key=lambda r: int(r["ID"]))
    start = query.parse_start(call.param("start"))
    page = rows[start : start + _PAGE]
    following = start + _PAGE if start + _PAGE < len(rows) else None
    return Result([_list_out(r) for r in page], len(rows), following)


def _name_field(iblock: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "FIELD_ID": "NAME",
        "SORT": 10,
        "NAME": "Название",
        "IS_REQUIRED": "Y",
        "MULTIPLE": "N",
        "DEFAULT_VALUE": "",
        "TYPE": "NAME",
        "SETTINGS": {"SHOW_ADD_FORM": "Y", "SHOW_EDIT_FORM": "Y"},
    }


def _settings(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


@method("lists.field.add")
def list_field_add(call: Call) -> str:
    iblock = _find_list(call, _iblock_type(call))
    assert iblock is not None
    fields = call.param("fields")
    if not isinstance(fields, Mapping):
        raise _missing("FIELDS")
    name, kind = str(fields.get("NAME") or "").strip(), str(fields.get("TYPE") or "")
    if not name or not kind:
        raise _missing("FIELDS[NAME]" if not name else "FIELDS[TYPE]")
    if kind in SYSTEM_FIELDS:
        return kind  # a system field: its own code comes back
    if kind not in FIELD_TYPES:
        raise errors.B24Error("ERROR_SAVE_FIELD", f"Incorrect lists specified for '{name}' property", 400)
    code = str(fields.get("CODE") or "")
    if not code:
        raise errors.B24Error("ERROR_SAVE_FIELD", "Please fill the code fields", 400)
    table = call.portal.table("list_fields")
    if any(f["IBLOCK_ID"] == iblock["ID"] and f["CODE"] == code for f in table.values()):
        raise errors.B24Error("ERROR_SAVE_FIELD", "Property already exists", 400)
    new_id = table.new_id()
    base, _, user_type = kind.partition(":")
    table.put(
        new_id,
        {
            "ID": str(new_id),
            "IBLOCK_ID": iblock["ID"],
            "FIELD_ID": f"PROPERTY_{new_id}",
            "SORT": numbers.whole(fields.get("SORT"), 500),
            "NAME": name,
            "IS_REQUIRED": "Y" if str(fields.get("IS_REQUIRED") or "N").upper() == "Y" else "N",
            "MULTIPLE": "Y" if str(fields.get("MULTIPLE") or "N").upper() == "Y" else "N",
            "DEFAULT_VALUE": fields.get("DEFAULT_VALUE") or "",
            "TYPE": kind,
            "PROPERTY_TYPE": base,
            "PROPERTY_USER_TYPE": user_type or False,
            "CODE": code,
            "LINK_IBLOCK_ID": fields.get("LINK_IBLOCK_ID"),
            "ROW_COUNT": str(fields.get("ROW_COUNT") or 1),
            "COL_COUNT": str(fields.get("COL_COUNT") or 30),
            "USER_TYPE_SETTINGS": fields.get("USER_TYPE_SETTINGS"),
            "SETTINGS": {
                "SHOW_ADD_FORM": "Y",
                "SHOW_EDIT_FORM": "Y",
                "ADD_READ_ONLY_FIELD": "N",
                "EDIT_READ_ONLY_FIELD": "N",
                "SHOW_FIELD_PREVIEW": "N",
                **_settings(fields.get("SETTINGS")),
            },
        },
    )
    return f"PROPERTY_{new_id}"


def _fields_of(call: Call, iblock: Mapping[str, Any]) -> list[dict[str, Any]]:
    own = [
        {k: v for k, v in f.items() if k != "IBLOCK_ID"}
        for f in call.portal.table("list_fields").values()
        if f["IBLOCK_ID"] == iblock["ID"]
    ]
    return [_name_field(iblock), *own]


@method("lists.field.get")
def list_field_get(call: Call) -> dict[str, Any]:
    iblock = _find_list(call, _iblock_type(call))
    assert iblock is not None
    wanted = call.param("field_id")
    fields = [f for f in _fields_of(call, iblock) if not wanted or f["FIELD_ID"] == str(wanted)]
    return {f["FIELD_ID"]: f for f in fields}


def _element_list(call: Call) -> tuple[str, dict[str, Any]]:
    iblock_type = _iblock_type(call)
    iblock = _find_list(call, iblock_type)
    assert iblock is not None
    return iblock_type, iblock


def _find_element(call: Call, iblock: Mapping[str, Any]) -> dict[str, Any] | None:
    element_id, code = call.param("element_id"), call.param("element_code")
    for row in call.portal.table("list_elements").values():
        if str(row["iblock"]) != str(iblock["ID"]):
            continue
        if (element_id not in (None, "") and str(row["id"]) == str(element_id)) or (
            element_id in (None, "") and code and row["code"] == str(code)
        ):
            return row
    return None


def _check_values(call: Call, iblock: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
    if not str(fields.get("NAME") or "").strip():
        raise errors.B24Error("ERROR_ADD_ELEMENT", "Field NAME is required", 400)
    for spec in _fields_of(call, iblock)[1:]:
        value = fields.get(spec["FIELD_ID"])
        if spec["IS_REQUIRED"] == "Y" and value in (None, "", []):
            raise errors.B24Error("ERROR_ELEMENT_FIELD_VALUE", f'The field "{spec["NAME"]}" is required', 400)


@method("lists.element.add")
def list_element_add(call: Call) -> int:
    iblock_type, iblock = _element_list(call)
    code = call.param("element_code")
    fields = call.param("fields")
    if not code:
        raise _missing("ELEMENT_CODE")
    if not isinstance(fields, Mapping):
        raise _missing("FIELDS")
    _check_values(call, iblock, fields)
    table = call.portal.table("list_elements")
    if any(str(e["iblock"]) == str(iblock["ID"]) and e["code"] == str(code) for e in table.values()):
        raise errors.B24Error("ERROR_ELEMENT_ALREADY_EXISTS", "Element with this code already exists", 400)
    new_id = table.new_id()
    now = clock.iso(clock.now(call.portal.config.tz))
    table.put(
        new_id,
        {
            "id": new_id,
            "iblock_type": iblock_type,
            "iblock": iblock["ID"],
            "code": str(code),
            "section_id": call.param("iblock_section_id") or 0,
            "fields": dict(fields),
            "created": now,
            "modified": now,
            "created_by": call.user_id,
        },
    )
    return new_id


@method("lists.element.update")
def list_element_update(call: Call) -> bool:
    _, iblock = _element_list(call)
    if call.param("element_id") in (None, "") and not call.param("element_code"):
        raise _missing("ELEMENT_ID")
    fields = call.param("fields")
    if not isinstance(fields, Mapping):
        raise _missing("FIELDS")
    element = _find_element(call, iblock)
    if element is None:
        raise errors.B24Error("ERROR_ELEMENT_NOT_FOUND", "Element not found", 400)
    _check_values(call, iblock, fields)
    # The whole element is replaced: a value not sent is cleared (the docs' warning).
    element["fields"] = dict(fields)
    element["modified"] = clock.iso(clock.now(call.portal.config.tz))
    return True


def _element_out(element: Mapping[str, Any], select: set[str] | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ID": str(element["id"]),
        "IBLOCK_ID": str(element["iblock"]),
        "NAME": element["fields"].get("NAME", ""),
        "CODE": element["code"],
        "IBLOCK_SECTION_ID": str(element.get("section_id") or "") or None,
        "DATE_CREATE": element["created"],
        "TIMESTAMP_X": element.get("modified", element["created"]),
        "CREATED_BY": str(element.get("created_by") or ""),
    }
    for key, value in element["fields"].items():
        if str(key).startswith("PROPERTY_"):
            # Property values come back as {valueId: value} maps (fidelity notes §7).
            values = value if isinstance(value, list) else [value]
            row[str(key)] = {f"{element['id']}{i}": v for i, v in enumerate(values)}
    if select:
        row = {k: v for k, v in row.items() if k in select or k == "ID"}
    return row


@method("lists.element.get")
def list_element_get(call: Call) -> Result:
    _, iblock = _element_list(call)
    select_param = call.param("select")
    select = {str(s) for s in select_param} if isinstance(select_param, list) and select_param else None
    if call.param("element_id") not in (None, "") or call.param("element_code"):
        element = _find_element(call, iblock)
        rows = [element] if element is not None else []
    else:
        elements = call.portal.table("list_elements").values()
        rows = [e for e in elements if str(e["iblock"]) == str(iblock["ID"])]
    rows.sort(key=lambda e: int(e["id"]))
    start = query.parse_start(call.param("start"))
    page = rows[start : start + _PAGE]
    following = start + _PAGE if start + _PAGE < len(rows) else None
    # The docs say SELECT defaults to ['ID']; public clients read NAME and PROPERTY_* without it
    # (needs a live check), so every field comes back.
    return Result([_element_out(e, select) for e in page], len(rows), following)
