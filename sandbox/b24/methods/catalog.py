"""catalog.*: catalogs, sections, products, prices, price types, stores, stock, inventory documents.

camelCase names, native numbers, results wrapped in a named key, integer error codes (README §6).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.b24 import clock, errors, numbers, query
from sandbox.b24.methods import catalog_properties
from sandbox.b24.registry import Call, Result, method
from sandbox.b24.state import Portal

_PROPERTY = re.compile(r"^property(\d+)$")

_PRODUCT_DEFAULTS: dict[str, Any] = {
    "active": "Y",
    "available": "Y",
    "barcodeMulti": "N",
    "bundle": "N",
    "canBuyZero": "Y",
    "code": None,
    "dateActiveFrom": None,
    "dateActiveTo": None,
    "detailPicture": None,
    "detailText": None,
    "detailTextType": "text",
    "height": None,
    "iblockSectionId": None,
    "length": None,
    "measure": 5,
    "previewPicture": None,
    "previewText": None,
    "previewTextType": "text",
    "purchasingCurrency": None,
    "purchasingPrice": None,
    "quantity": 0,
    "quantityReserved": 0,
    "quantityTrace": "D",
    "recurSchemeLength": None,
    "recurSchemeType": "D",
    "sort": 500,
    "subscribe": "D",
    "trialPriceId": None,
    "type": 1,
    "vatId": None,
    "vatIncluded": "N",
    "weight": None,
    "width": None,
    "withoutOrder": "N",
    "xmlId": None,
}
_NUMERIC = {
    "id",
    "iblockId",
    "iblockSectionId",
    "measure",
    "quantity",
    "quantityReserved",
    "sort",
    "type",
    "vatId",
    "weight",
    "width",
    "length",
    "height",
    "createdBy",
    "modifiedBy",
    "recurSchemeLength",
    "trialPriceId",
    "productId",
    "catalogGroupId",
    "price",
    "priceScale",
    "quantityFrom",
    "quantityTo",
    "storeId",
    "amount",
    "userId",
    "productIblockId",
    "skuPropertyId",
    "docId",
    "storeFrom",
    "storeTo",
    "elementId",
    "responsibleId",
    "purchasingPrice",
    "gpsN",
    "gpsS",
    "extraId",
}
_DATES = {
    "dateCreate",
    "timestampX",
    "dateActiveFrom",
    "dateActiveTo",
    "dateModify",
    "dateDocument",
    "dateStatus",
}
_READ_ONLY_PRODUCT = {"id", "available", "bundle", "timestampX", "dateCreate", "createdBy", "modifiedBy"}
_STOCK_FIELDS = {"quantity", "quantityReserved", "purchasingPrice", "purchasingCurrency"}


def kind_of(name: str) -> str:
    if name in _NUMERIC or _PROPERTY.match(name):
        return "number"
    if name in _DATES:
        return "date"
    return "string"


def _now(portal: Portal) -> str:
    return clock.iso(clock.now(portal.config.tz))


def _num(value: Any) -> Any:
    """Native number as the catalog returns it: int when whole."""
    if value in (None, ""):
        return None
    number = numbers.finite(value)
    if number is None:
        return value
    return int(number) if number.is_integer() else number


def _require_fields(call: Call) -> dict[str, Any]:
    fields = call.param("fields")
    if not isinstance(fields, Mapping):
        raise errors.catalog(100, "Could not find value for parameter {fields}")
    return dict(fields)


def _require_id(call: Call) -> int:
    found = numbers.digits(call.param("id") or "")
    if found is None:
        raise errors.catalog(100, "Could not find value for parameter {id}")
    return found


def inventory_on(portal: Portal) -> bool:
    return bool(portal.settings.get("inventory_management", portal.config.inventory_management))


def _list(
    call: Call,
    rows: list[dict[str, Any]],
    wrapper: str,
    render: Callable[[dict[str, Any]], dict[str, Any]] = dict,
    required_filter: str | None = None,
) -> Result:
    portal = call.portal
    filter_ = call.param("filter")
    if required_filter and (not isinstance(filter_, Mapping) or required_filter not in filter_):
        raise errors.catalog(0, f"Required filter field {required_filter} is missing")
    rows = query.apply_filter(rows, query.parse_filter(filter_), kind_of, portal.config.tz)
    ordering = query.parse_order(call.param("order")) or [("id", False)]
    rows = query.apply_order(rows, ordering, kind_of, portal.config.tz)
    page = query.paginate(rows, query.parse_start(call.param("start")))
    out = [render(dict(r)) for r in page.rows]
    select = call.param("select")
    if isinstance(select, list) and select and "*" not in select:
        wanted = {str(s) for s in select}
        out = [{k: v for k, v in r.items() if k in wanted} for r in out]
    return Result({wrapper: out}, page.total, page.next)


# -- catalogs ----------------------------------------------------------------------------------
@method("catalog.catalog.list")
def catalog_list(call: Call) -> Result:
    return _list(call, list(call.portal.table("catalogs").values()), "catalogs")


@method("catalog.catalog.get")
def catalog_get(call: Call) -> dict[str, Any]:
    row = call.portal.table("catalogs").get(_require_id(call))
    if row is None:
        raise errors.catalog(0, "Catalog not found")
    return {"catalog": dict(row)}


def _iblock_exists(portal: Portal, iblock_id: Any) -> bool:
    return any(str(c["iblockId"]) == str(iblock_id) for c in portal.table("catalogs").values())


# -- sections ----------------------------------------------------------------------------------
_SECTION_FIELDS = (
    "iblockId",
    "iblockSectionId",
    "name",
    "xmlId",
    "code",
    "sort",
    "active",
    "description",
    "descriptionType",
)


def _section_values(
    portal: Portal, fields: Mapping[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    row = dict(
        current
        or {
            "active": "Y",
            "sort": 500,
            "code": None,
            "xmlId": None,
            "description": None,
            "descriptionType": "text",
            "iblockSectionId": None,
        }
    )
    for key in _SECTION_FIELDS:
        if key in fields:
            value = fields[key]
            row[key] = _num(value) if key in ("iblockId", "iblockSectionId", "sort") else value
    if not _iblock_exists(portal, row.get("iblockId")):
        raise errors.catalog(200700300050, "Information block not found")
    if not row.get("name"):
        raise errors.catalog(0, "Required field name is missing")
    parent = row.get("iblockSectionId")
    if parent:
        parent_row = portal.table("sections").get(parent)
        if parent_row is None or parent_row["iblockId"] != row["iblockId"]:
            raise errors.catalog(200700300000, "Parent section not found in this information block")
    code = row.get("code")
    if code and any(
        s["code"] == code and s["iblockId"] == row["iblockId"] and s["id"] != row.get("id")
        for s in portal.table("sections").values()
    ):
        raise errors.catalog(200700300040, f"Section with code {code} already exists")
    return row


@method("catalog.section.add")
def section_add(call: Call) -> dict[str, Any]:
    row = call.portal.table("sections").insert(_section_values(call.portal, _require_fields(call), None))
    return {"section": dict(sorted(row.items()))}


@method("catalog.section.update")
def section_update(call: Call) -> dict[str, Any]:
    section_id = _require_id(call)
    current = call.portal.table("sections").get(section_id)
    if current is None:
        raise errors.catalog(0, "Section not found")
    row = _section_values(call.portal, _require_fields(call), current)
    call.portal.table("sections").put(section_id, row)
    return {"section": dict(sorted(row.items()))}


@method("catalog.section.get")
def section_get(call: Call) -> dict[str, Any]:
    row = call.portal.table("sections").get(_require_id(call))
    if row is None:
        raise errors.catalog(0, "Section not found")
    return {"section": dict(sorted(row.items()))}


@method("catalog.section.list")
def section_list(call: Call) -> Result:
    # README §1.6: docs disagree on `sections` vs `result.sections`; the table form is used.
    return _list(call, list(call.portal.table("sections").values()), "sections", required_filter="iblockId")


@method("catalog.section.delete")
def section_delete(call: Call) -> bool:
    section_id = _require_id(call)
    if call.portal.table("sections").delete(section_id) is None:
        raise errors.catalog(0, "Section not found")
    return True


# -- products ----------------------------------------------------------------------------------
def _file_value(portal: Portal, product_id: int, field: str, value: Any, current: Any) -> Any:
    if isinstance(value, Mapping) and str(value.get("remove", "")).upper() == "Y":
        return None
    if isinstance(value, Mapping) and value.get("fileData"):
        file_id = portal.table("files").new_id()
        url = (
            f"/rest/catalog.product.download?fields%5BfieldName%5D={field}"
            f"&fields%5BfileId%5D={file_id}&fields%5BproductId%5D={product_id}"
        )
        return {"id": str(file_id), "url": url, "urlMachine": url}
    return current


def _purchasing_price(value: Any) -> float:
    number = numbers.finite(value)
    if number is None:
        raise errors.catalog(0, "Field purchasingPrice must be a number")
    return number


def _apply_product(call: Call, row: dict[str, Any], fields: Mapping[str, Any], creating: bool) -> None:
    portal = call.portal
    if not creating and inventory_on(portal):
        blocked = _STOCK_FIELDS & set(fields)
        if blocked:
            raise errors.catalog(
                0,
                f"Fields {', '.join(sorted(blocked))} cannot be changed with inventory management enabled",
            )
    for key, value in fields.items():
        if key in _READ_ONLY_PRODUCT:
            continue
        if key in ("previewPicture", "detailPicture"):
            row[key] = _file_value(portal, row["id"], key, value, row.get(key))
        elif _PROPERTY.match(key):
            catalog_properties.store_value(portal, row, key, value)
        elif key == "purchasingPrice":
            row[key] = None if value in (None, "") else f"{_purchasing_price(value):.6f}"
        elif key in _NUMERIC:
            row[key] = _num(value)
        elif key in _PRODUCT_DEFAULTS or key in ("iblockId", "name", "code", "xmlId"):
            row[key] = value


@method("catalog.product.add")
def product_add(call: Call) -> dict[str, Any]:
    portal = call.portal
    fields = _require_fields(call)
    if not _iblock_exists(portal, fields.get("iblockId")):
        raise errors.catalog(200040300010, "Access Denied")
    if not fields.get("name"):
        raise errors.catalog(0, "Required field name is missing")
    if inventory_on(portal) and _STOCK_FIELDS & {k for k, v in fields.items() if v not in (None, "", 0)} - {
        "purchasingPrice",
        "purchasingCurrency",
    }:
        raise errors.catalog(0, "Quantity cannot be set while inventory management is enabled")
    table = portal.table("products")
    product_id = table.new_id()
    moment = _now(portal)
    row: dict[str, Any] = {"id": product_id, "iblockId": _num(fields["iblockId"]), **_PRODUCT_DEFAULTS}
    row |= {"createdBy": call.user_id, "modifiedBy": call.user_id, "dateCreate": moment, "timestampX": moment}
    _apply_product(call, row, fields, creating=True)
    table.put(product_id, row)
    call.emit("CATALOG.PRODUCT.ON.ADD", {"ID": product_id, "TYPE": row["type"]})
    return {"element": _render_product(call.portal, row)}


def _render_product(portal: Portal, row: Mapping[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in row.items() if not _PROPERTY.match(k)}
    out = dict(sorted((plain | catalog_properties.render_values(portal, row)).items()))
    out["available"] = "Y" if row.get("active") == "Y" else "N"
    return out


def _product(call: Call, product_id: int) -> dict[str, Any]:
    row = call.portal.table("products").get(product_id)
    if row is None:
        raise errors.catalog(0, "Product not found")
    return row


@method("catalog.product.update")
def product_update(call: Call) -> dict[str, Any]:
    product_id = _require_id(call)
    row = _product(call, product_id)
    _apply_product(call, row, _require_fields(call), creating=False)
    row["timestampX"] = _now(call.portal)
    row["modifiedBy"] = call.user_id
    call.emit("CATALOG.PRODUCT.ON.UPDATE", {"ID": product_id, "TYPE": row["type"]})
    return {"element": _render_product(call.portal, row)}


@method("catalog.product.get")
def product_get(call: Call) -> dict[str, Any]:
    return {"product": _render_product(call.portal, _product(call, _require_id(call)))}


@method("catalog.product.list")
def product_list(call: Call) -> Result:
    portal = call.portal
    products = portal.table("products")
    # Filters and ordering see a property as its plain values; the answer shows it as stored.
    searchable = [
        {
            k: [v["value"] for v in value] if _PROPERTY.match(k) and value else value
            for k, value in row.items()
        }
        for row in products.values()
    ]

    def render(found: dict[str, Any]) -> dict[str, Any]:
        return _render_product(portal, products.get(found["id"]) or found)

    return _list(call, searchable, "products", render, required_filter="iblockId")


@method("catalog.product.delete")
def product_delete(call: Call) -> bool:
    product_id = _require_id(call)
    row = _product(call, product_id)
    portal = call.portal
    portal.table("products").delete(product_id)
    for price in portal.table("prices").values():
        if price["productId"] == product_id:
            portal.table("prices").delete(price["id"])
    for stock in portal.table("store_products").values():
        if stock["productId"] == product_id:
            portal.table("store_products").delete(stock["id"])
    call.emit("CATALOG.PRODUCT.ON.DELETE", {"ID": product_id, "TYPE": row["type"]})
    return True


# -- prices ------------------------------------------------------------------------------------
def _price_values(call: Call, fields: Mapping[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    row = dict(current or {"extraId": None, "quantityFrom": None, "quantityTo": None})
    for key in ("productId", "catalogGroupId", "price", "currency", "quantityFrom", "quantityTo", "extraId"):
        if key in fields:
            if key != "currency" and isinstance(fields[key], Mapping | list):
                raise errors.catalog(0, f"Field {key} must be a number")
            row[key] = fields[key] if key == "currency" else _num(fields[key])
    for key in ("productId", "catalogGroupId", "price", "currency"):
        if row.get(key) in (None, ""):
            raise errors.catalog(0, f"Required field {key} is missing")
    if call.portal.table("products").get(row["productId"]) is None:
        raise errors.catalog(0, "Product not found")
    if call.portal.table("price_types").get(row["catalogGroupId"]) is None:
        raise errors.catalog(0, "Price type not found")
    row["priceScale"] = row["price"]
    row["timestampX"] = _now(call.portal)
    return row


def _price_slot(row: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What a product holds one price of: its price type from a quantity on."""
    return row["productId"], row["catalogGroupId"], row.get("quantityFrom")


def _store_price(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    table = call.portal.table("prices")
    if "id" not in row:
        row["id"] = table.new_id()
    table.put(row["id"], row)
    return dict(sorted(row.items()))


@method("catalog.price.add")
def price_add(call: Call) -> dict[str, Any]:
    row = _price_values(call, _require_fields(call), None)
    if call.portal.table("prices").having(_price_slot, _price_slot(row)):
        raise errors.catalog(0, "A price of this type already exists for the product")
    return {"price": _store_price(call, row)}


@method("catalog.price.update")
def price_update(call: Call) -> dict[str, Any]:
    price_id = _require_id(call)
    current = call.portal.table("prices").get(price_id)
    if current is None:
        raise errors.catalog(0, "Price not found")
    return {"price": _store_price(call, _price_values(call, _require_fields(call), current))}


@method("catalog.price.get")
def price_get(call: Call) -> dict[str, Any]:
    row = call.portal.table("prices").get(_require_id(call))
    if row is None:
        raise errors.catalog(0, "Price not found")
    return {"price": dict(sorted(row.items()))}


@method("catalog.price.list")
def price_list(call: Call) -> Result:
    return _list(
        call, list(call.portal.table("prices").values()), "prices", lambda r: dict(sorted(r.items()))
    )


@method("catalog.price.delete")
def price_delete(call: Call) -> bool:
    if call.portal.table("prices").delete(_require_id(call)) is None:
        raise errors.catalog(0, "Price not found")
    return True


@method("catalog.price.modify")
def price_modify(call: Call) -> dict[str, Any]:
    """Replaces the product's whole price set: with `id` updates, without creates, unlisted deleted."""
    fields = _require_fields(call)
    product = fields.get("product")
    if not isinstance(product, Mapping) or (product_id := numbers.digits(product.get("id", ""))) is None:
        raise errors.catalog(0, "Required field product.id is missing")
    _product(call, product_id)
    entries = product.get("prices") or []
    entries = list(entries.values()) if isinstance(entries, Mapping) else entries
    if not isinstance(entries, list) or not all(isinstance(entry, Mapping) for entry in entries):
        raise errors.catalog(0, "Field product.prices must be an array of prices")
    table = call.portal.table("prices")
    existing = {p["id"]: p for p in table.values() if p["productId"] == product_id}
    kept: list[dict[str, Any]] = []
    for entry in entries:
        entry = dict(entry) | {"productId": product_id}
        price_id = numbers.digits(entry.get("id", ""))
        current = existing.get(price_id) if price_id is not None else None
        row = _price_values(call, entry, current)
        kept.append(_store_price(call, row))
    kept_ids = {row["id"] for row in kept}
    for price_id in existing:
        if price_id not in kept_ids:
            table.delete(price_id)
    return {"prices": kept}


@method("catalog.pricetype.list")
def price_type_list(call: Call) -> Result:
    return _list(call, list(call.portal.table("price_types").values()), "priceTypes")


# -- stores and stock --------------------------------------------------------------------------
@method("catalog.store.list")
def store_list(call: Call) -> Result:
    return _list(call, list(call.portal.table("stores").values()), "stores")


@method("catalog.store.get")
def store_get(call: Call) -> dict[str, Any]:
    row = call.portal.table("stores").get(_require_id(call))
    if row is None:
        raise errors.catalog(0, "Store not found")
    return {"store": dict(row)}


@method("catalog.storeproduct.list")
def storeproduct_list(call: Call) -> Result:
    return _list(call, list(call.portal.table("store_products").values()), "storeProducts")


@method("catalog.storeproduct.get")
def storeproduct_get(call: Call) -> dict[str, Any]:
    row = call.portal.table("store_products").get(_require_id(call))
    if row is None:
        raise errors.catalog(0, "Not found")
    return {"storeProduct": dict(row)}


def change_stock(portal: Portal, product_id: int, store_id: int, delta: float) -> None:
    table = portal.table("store_products")
    row = next((r for r in table.values() if r["productId"] == product_id and r["storeId"] == store_id), None)
    if row is None:
        row = {
            "id": table.new_id(),
            "productId": product_id,
            "storeId": store_id,
            "amount": 0,
            "quantityReserved": 0,
        }
        table.put(row["id"], row)
    row["amount"] = _num(float(row["amount"]) + delta)
    product = portal.table("products").get(product_id)
    if product is not None:
        product["quantity"] = _num(float(product.get("quantity") or 0) + delta)


# -- inventory documents -----------------------------------------------------------------------
@method("catalog.document.mode.status")
def document_mode_status(call: Call) -> str:
    # The docs' table says "boolean", and their type dictionary defines that as "Y"/"N": the
    # sample answer is {"result":"Y"} (fidelity-notes §4).
    on = inventory_on(call.portal)
    # `/_sandbox/answers` {"document_mode_status": "boolean"} gives the JSON-boolean form a live
    # portal might use instead (docs/sandbox-b24.md, needs a live check).
    if call.portal.settings.get("answers", {}).get("document_mode_status") == "boolean":
        return on  # type: ignore[return-value]
    return "Y" if on else "N"


_DOC_TYPES = {"A", "S", "M", "R", "D"}


@method("catalog.document.add")
def document_add(call: Call) -> dict[str, Any]:
    fields = _require_fields(call)
    doc_type = str(fields.get("docType", ""))
    if doc_type not in _DOC_TYPES:
        raise errors.catalog(0, "Invalid document type")
    table = call.portal.table("documents")
    moment = _now(call.portal)
    row = {
        "id": table.new_id(),
        "docType": doc_type,
        "title": fields.get("title"),
        "currency": fields.get("currency") or "RUB",
        "responsibleId": _num(fields.get("responsibleId")) or call.user_id,
        "createdBy": call.user_id,
        "dateCreate": moment,
        "dateDocument": fields.get("dateDocument") or moment,
        "status": "N",
        "total": 0,
        "commentary": fields.get("commentary"),
    }
    table.put(row["id"], row)
    return {"document": dict(row)}


@method("catalog.document.element.add")
def document_element_add(call: Call) -> dict[str, Any]:
    fields = _require_fields(call)
    document = call.portal.table("documents").get(fields.get("docId"))
    if document is None:
        raise errors.catalog(0, "Document not found")
    if document["status"] == "Y":
        raise errors.catalog(0, "A conducted document cannot be changed")
    if call.portal.table("products").get(fields.get("elementId")) is None:
        raise errors.catalog(0, "Product not found")
    table = call.portal.table("document_elements")
    row = {
        "id": table.new_id(),
        "docId": _num(fields["docId"]),
        "storeFrom": _num(fields.get("storeFrom")),
        "storeTo": _num(fields.get("storeTo")),
        "elementId": _num(fields["elementId"]),
        "amount": _num(fields.get("amount")) or 0,
        "purchasingPrice": _num(fields.get("purchasingPrice")),
    }
    table.put(row["id"], row)
    return {"documentElement": dict(row)}


@method("catalog.document.conduct")
def document_conduct(call: Call) -> bool:
    portal = call.portal
    document = portal.table("documents").get(_require_id(call))
    if document is None:
        raise errors.catalog(0, "Document not found")
    if not inventory_on(portal):
        raise errors.catalog(0, "Inventory management is not enabled")
    if document["status"] == "Y":
        raise errors.catalog(0, "Document is already conducted")
    elements = [e for e in portal.table("document_elements").values() if e["docId"] == document["id"]]
    for element in elements:
        amount = float(element["amount"] or 0)
        if document["docType"] in ("A", "S", "R"):
            if not element.get("storeTo"):
                raise errors.catalog(0, "Receiving store is required")
            change_stock(portal, element["elementId"], element["storeTo"], amount)
        elif document["docType"] == "D":
            change_stock(portal, element["elementId"], element["storeFrom"], -amount)
        elif document["docType"] == "M":
            change_stock(portal, element["elementId"], element["storeFrom"], -amount)
            change_stock(portal, element["elementId"], element["storeTo"], amount)
    document["status"] = "Y"
    document["dateStatus"] = _now(portal)
    for element in elements:
        call.emit("CATALOG.PRODUCT.ON.UPDATE", {"ID": element["elementId"], "TYPE": 1})
    return True


@method("catalog.pricetype.add")
def price_type_add(call: Call) -> dict[str, Any]:
    fields = _require_fields(call)
    if not fields.get("name"):
        raise errors.catalog(0, "Required field name is missing")
    table = call.portal.table("price_types")
    moment = _now(call.portal)
    row = {
        "id": table.new_id(),
        "name": str(fields["name"]),
        "base": "Y" if str(fields.get("base", "N")).upper() == "Y" else "N",
        "sort": _num(fields.get("sort")) or 100,
        "xmlId": fields.get("xmlId"),
        "createdBy": call.user_id,
        "modifiedBy": call.user_id,
        "dateCreate": moment,
        "timestampX": moment,
    }
    table.put(row["id"], row)
    return {"priceType": dict(row)}
