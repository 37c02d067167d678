"""catalog.productProperty.*: product properties and the `property<ID>` values products carry.

Shapes follow the b24restdocs pages api-reference/catalog/product-property/*: the object is
wrapped as `result.productProperty` / `result.productProperties`, camelCase, native numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.b24 import clock, errors, numbers, query
from sandbox.b24.registry import Call, Result, method
from sandbox.b24.state import Portal

PROPERTY_KEY = re.compile(r"^property(\d+)$")
_TYPES = {"N", "S", "L", "F", "E", "G"}
_FLAGS = ("active", "multiple", "isRequired", "filtrable", "searchable", "withDescription")
_NUMBERS = ("iblockId", "sort", "rowCount", "colCount", "multipleCnt", "linkIblockId")
_TEXTS = ("name", "code", "propertyType", "listType", "xmlId", "fileType", "hint", "defaultValue", "userType")
_DEFAULTS: dict[str, Any] = {
    "active": "Y",
    "code": None,
    "colCount": 30,
    "defaultValue": None,
    "fileType": None,
    "filtrable": "N",
    "hint": None,
    "isRequired": "N",
    "linkIblockId": None,
    "listType": "L",
    "multiple": "N",
    "multipleCnt": None,
    "rowCount": 1,
    "searchable": "N",
    "sort": 500,
    "userType": None,
    "userTypeSettings": None,
    "withDescription": None,
    "xmlId": None,
}
# What the add sample shows the portal filling in for a `directory` property's settings.
_DIRECTORY_SETTINGS = {"group": "N", "multiple": "N", "size": 1, "width": 0}


def _kind_of(name: str) -> str:
    if name in _NUMBERS or name == "id":
        return "number"
    return "date" if name == "timestampX" else "string"


def _is_catalog(portal: Portal, iblock_id: Any) -> bool:
    return any(str(c["iblockId"]) == str(iblock_id) for c in portal.table("catalogs").values())


def _values(portal: Portal, fields: Mapping[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    row = dict(current or _DEFAULTS)
    for key in _FLAGS:
        if key in fields:
            row[key] = "Y" if str(fields[key]).upper() == "Y" else "N"
    for key in _NUMBERS:
        if key in fields:
            number = numbers.signed(fields[key])
            if fields[key] not in (None, "") and number is None:
                raise errors.catalog(0, f"Wrong format of field `{key}`")
            row[key] = number
    for key in _TEXTS:
        if key in fields:
            row[key] = None if fields[key] is None else str(fields[key])
    if "userTypeSettings" in fields:
        settings = fields["userTypeSettings"]
        if settings is not None and not isinstance(settings, Mapping):
            raise errors.catalog(0, "Invalid custom property type settings specified")
        row["userTypeSettings"] = dict(settings) if settings is not None else None
    if not row.get("iblockId") or not row.get("name") or not row.get("propertyType"):
        raise errors.catalog(0, "Required fields: iblockId, name, propertyType")
    if not _is_catalog(portal, row["iblockId"]):
        raise errors.catalog(0, "The specified iblock is not a product catalog")
    if row["propertyType"] not in _TYPES:
        raise errors.catalog(0, "Invalid property type specified")
    if row.get("code") and row["code"][0].isdigit():
        raise errors.catalog(0, "Property code cannot start with a digit")
    if row.get("userType") == "directory":
        row["userTypeSettings"] = _DIRECTORY_SETTINGS | (row.get("userTypeSettings") or {})
    row["timestampX"] = clock.iso(clock.now(portal.config.tz))
    return row


def _require_id(call: Call) -> int:
    found = numbers.digits(call.param("id") or "")
    if found is None:
        raise errors.catalog(100, "Could not find value for parameter {id}")
    return found


def _existing(call: Call) -> dict[str, Any]:
    row = call.portal.table("product_properties").get(_require_id(call))
    if row is None:
        raise errors.catalog(0, "Property is not exists")
    return row


def _fields(call: Call) -> Mapping[str, Any]:
    fields = call.param("fields")
    if not isinstance(fields, Mapping):
        raise errors.catalog(100, "Could not find value for parameter {fields}")
    return fields


def _render(row: Mapping[str, Any]) -> dict[str, Any]:
    return dict(sorted(row.items()))


@method("catalog.productProperty.add")
def property_add(call: Call) -> dict[str, Any]:
    row = call.portal.table("product_properties").insert(_values(call.portal, _fields(call), None))
    return {"productProperty": _render(row)}


@method("catalog.productProperty.update")
def property_update(call: Call) -> dict[str, Any]:
    current = _existing(call)
    row = _values(call.portal, _fields(call), current)
    call.portal.table("product_properties").put(row["id"], row)
    return {"productProperty": _render(row)}


@method("catalog.productProperty.get")
def property_get(call: Call) -> dict[str, Any]:
    return {"productProperty": _render(_existing(call))}


@method("catalog.productProperty.list")
def property_list(call: Call) -> Result:
    # Without `iblockId` the docs select properties of every catalog, so it is not required here.
    portal = call.portal
    rows = [r for r in portal.table("product_properties").values() if _is_catalog(portal, r["iblockId"])]
    rows = query.apply_filter(rows, query.parse_filter(call.param("filter")), _kind_of, portal.config.tz)
    ordering = query.parse_order(call.param("order")) or [("id", False)]
    rows = query.apply_order(rows, ordering, _kind_of, portal.config.tz)
    page = query.paginate(rows, query.parse_start(call.param("start")))
    out = [_render(r) for r in page.rows]
    select = call.param("select")
    if isinstance(select, list) and select and "*" not in select:
        wanted = {str(s) for s in select}
        out = [{k: v for k, v in r.items() if k in wanted} for r in out]
    return Result({"productProperties": out}, page.total, page.next)


@method("catalog.productProperty.delete")
def property_delete(call: Call) -> bool:
    property_id = _existing(call)["id"]
    portal = call.portal
    portal.table("product_properties").delete(property_id)
    # A deleted property's values go with it, as they do in the iblock.
    for product in portal.table("products").values():
        product.pop(f"property{property_id}", None)
    return True


# -- property values on products ---------------------------------------------------------------
def iblock_properties(portal: Portal, iblock_id: Any) -> list[dict[str, Any]]:
    return [p for p in portal.table("product_properties").values() if str(p["iblockId"]) == str(iblock_id)]


def store_value(portal: Portal, row: dict[str, Any], key: str, value: Any) -> None:
    """Keeps a `property<ID>` value given as a scalar, `{value}` or a list of those (README §6.4).

    Keys of properties the product's catalog lacks are dropped, like unknown fields.
    """
    match = PROPERTY_KEY.match(key)
    prop = portal.table("product_properties").get(match.group(1)) if match else None
    if prop is None or str(prop["iblockId"]) != str(row.get("iblockId")):
        return
    items = list(value.values()) if _is_php_list(value) else value
    items = items if isinstance(items, list) else [items]
    raw = [i.get("value") if isinstance(i, Mapping) else i for i in items]
    kept = [v for v in raw if v not in (None, "")]
    if prop["multiple"] != "Y":
        kept = kept[:1]
    values_table = portal.table("property_values")
    row[key] = [{"value": v, "valueId": str(values_table.new_id())} for v in kept] or None


def _is_php_list(value: Any) -> bool:
    # A list sent as form data arrives as {"0": …, "1": …}; `{value: …}` has non-numeric keys.
    return isinstance(value, Mapping) and bool(value) and all(str(k).isdigit() for k in value)


def render_values(portal: Portal, row: Mapping[str, Any]) -> dict[str, Any]:
    """`property<ID>` for every property of the product's catalog, as catalog.product.get shows it.

    Single-value properties: `{value, valueId}`; multiple: a list of those; no value: null.
    """
    out: dict[str, Any] = {}
    for prop in iblock_properties(portal, row.get("iblockId")):
        key = f"property{prop['id']}"
        stored = row.get(key)
        if not stored:
            out[key] = None
        elif prop["multiple"] == "Y":
            out[key] = list(stored)
        else:
            out[key] = dict(stored[0])
    return out
