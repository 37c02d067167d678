"""Setup step of the catalog flow: resolve names to ids once and choose the stock write path.

Bitrix24: the CRM product catalog (`catalog.catalog.list` → iblockId), the price type
(`catalog.priceType.list`), the product property "Артикул" (created when missing), inventory
management (`catalog.document.mode.status`) → stock as product `quantity` (off) or as inventory
documents into a store (on). 1C: the price kind and the warehouses named in the mapping. The
result is stored in SyncTable (`CONFIG#catalog` / `RESOLVED`); runs read it instead of names.
"""

from __future__ import annotations

from typing import Any

from bridge.b24.errors import B24Error, MethodNotFound
from bridge.b24.models import yes_no
from bridge.catalog import lookup
from bridge.catalog.model import MANIFEST_ITEMS
from bridge.catalog.resolved import CatalogResolved, EmptyAtSetup, StockMode, empty_at_setup, resolved_config
from bridge.domain.onec_sets import PRICE_KINDS, WAREHOUSES
from bridge.onec.odata import eq, normalize_ref
from bridge.ports import Ports
from bridge.setup.framework import SetupProblem

type SetupResult = list[SetupProblem | str]


def _rows(result: Any, wrapper: str) -> list[dict[str, Any]]:
    rows = result.get(wrapper, []) if isinstance(result, dict) else result
    return list(rows or [])


def _article_property(ports: Ports, iblock_id: int, dry_run: bool, notes: SetupResult) -> int | None:
    settings = ports.mapping.catalog
    try:
        answer = ports.b24.call(
            "catalog.productProperty.list",
            {"filter": {"iblockId": iblock_id}, "select": ["id", "name", "code"]},
        )
    except MethodNotFound:
        notes.append(
            f"article: the portal has no catalog.productProperty.* methods; the 1C article goes to the "
            f"product field `{settings.article_fallback_field}` instead (docs/catalog-flow.md)"
        )
        return None
    for row in _rows(answer.result, "productProperties"):
        if row.get("code") == settings.article_property_code or row.get("name") == settings.article_property:
            notes.append(f"article: product property {settings.article_property!r} is property{row['id']}")
            return int(row["id"])
    if dry_run:
        notes.append(f"article: would create product property {settings.article_property!r}")
        return None
    created = ports.b24.call(
        "catalog.productProperty.add",
        {
            "fields": {
                "iblockId": iblock_id,
                "name": settings.article_property,
                "code": settings.article_property_code,
                "propertyType": "S",
                "active": "Y",
                "multiple": "N",
            }
        },
    )
    property_id = int(created.result["productProperty"]["id"])
    notes.append(f"article: created product property {settings.article_property!r} (property{property_id})")
    return property_id


def resolve(ports: Ports, *, dry_run: bool) -> tuple[CatalogResolved | None, SetupResult]:
    settings = ports.mapping.catalog
    out: SetupResult = []
    catalogs = _rows(ports.b24.call("catalog.catalog.list", {}).result, "catalogs")
    if settings.catalog_name:
        catalog = next((c for c in catalogs if c.get("name") == settings.catalog_name), None)
    else:
        catalog = next((c for c in catalogs if not c.get("productIblockId")), None)
    if catalog is None:
        out.append(
            SetupProblem(
                "Bitrix24 catalog", "no product catalog found", "set catalog.catalog_name in the mapping"
            )
        )
    price_types = _rows(ports.b24.call("catalog.priceType.list", {}).result, "priceTypes")
    if settings.price_type:
        price_type = next((p for p in price_types if p.get("name") == settings.price_type), None)
    else:
        price_type = next((p for p in price_types if p.get("base") == "Y"), None)
    if price_type is None:
        out.append(
            SetupProblem(
                "Bitrix24 catalog", "no price type found", "set catalog.price_type to an existing name"
            )
        )
    mode = ports.b24.call("catalog.document.mode.status", {}).result
    # The answer is the string "Y"/"N", and bool("N") is true: parse it, never cast it.
    inventory = yes_no(mode)
    if inventory is None:
        out.append(
            SetupProblem(
                "Bitrix24 catalog",
                f"catalog.document.mode.status answered {mode!r}, neither Y nor N",
                "report it; stock is written as product quantity until setup can tell",
            )
        )
        inventory = False
    stock_mode: StockMode = "documents" if inventory else "quantity"
    store_id: int | None = None
    if inventory:
        stores = _rows(ports.b24.call("catalog.store.list", {}).result, "stores")
        named = [s for s in stores if not settings.store or s.get("title") == settings.store]
        store = next((s for s in named if s.get("active", "Y") == "Y"), None)
        if store is None:
            out.append(
                SetupProblem(
                    "Bitrix24 catalog", "no store for stock documents", "set catalog.store to a store title"
                )
            )
        else:
            store_id = int(store["id"])
            out.append(
                f"stock: inventory management is on → inventory documents into store {store['title']!r}"
            )
    else:
        out.append("stock: inventory management is off → product quantity")
    price_kind = ports.mapping.onec.price_kind
    kinds = ports.onec.list(PRICE_KINDS, filter=eq("Description", price_kind), select=("Ref_Key",))
    if not kinds:
        out.append(
            SetupProblem(
                "1C Catalog_ВидыЦен", f"1C price kind {price_kind!r} not found", "set onec.price_kind"
            )
        )
    warehouse_refs: list[str] = []
    for name in ports.mapping.onec.warehouses:
        found = ports.onec.list(WAREHOUSES, filter=eq("Description", name), select=("Ref_Key",))
        if not found:
            out.append(
                SetupProblem(
                    "1C Catalog_СтруктурныеЕдиницы", f"1C warehouse {name!r} not found", "fix onec.warehouses"
                )
            )
        else:
            warehouse_refs.append(normalize_ref(found[0]["Ref_Key"]))
    if catalog is None or price_type is None or not kinds or (inventory and store_id is None):
        return None, out
    if len(warehouse_refs) != len(ports.mapping.onec.warehouses):
        return None, out
    iblock_id = int(catalog["iblockId"])
    try:
        property_id = _article_property(ports, iblock_id, dry_run, out)
    except B24Error as error:
        out.append(
            SetupProblem(
                "Bitrix24 catalog",
                f"cannot create the article property: {error}",
                "create it by hand in Bitrix24",
            )
        )
        return None, out
    resolved = CatalogResolved(
        iblock_id=iblock_id,
        price_type_id=int(price_type["id"]),
        currency=ports.mapping.catalog.currency,
        article_property_id=property_id,
        article_field=settings.article_fallback_field,
        stock_mode=stock_mode,
        store_id=store_id,
        price_kind_ref=normalize_ref(kinds[0]["Ref_Key"]),
        warehouse_refs=tuple(warehouse_refs),
    )
    out.insert(
        0, f"catalog: iblock {iblock_id} ({catalog.get('name')}), price type {price_type.get('name')!r}"
    )
    return resolved, out


def setup(ports: Ports, *, dry_run: bool) -> SetupResult:
    """The setup command's catalog step; saves what it resolved in the configured SyncTable."""
    resolved, out = resolve(ports, dry_run=dry_run)
    if resolved is not None and not dry_run:
        resolved_config(ports.store).save(resolved)
        out.append("catalog: resolved ids saved (CONFIG#catalog)")
        out.append(_note_empty_catalog(ports, resolved.iblock_id))
    return out


def _note_empty_catalog(ports: Ports, iblock_id: int) -> str:
    """Records whether the catalog is empty, so the first load right after needs no probe request."""
    found = lookup.probe(ports.b24, iblock_id)
    # A SyncTable that remembers products is past its first load: the finding would never be
    # used, and must not be trusted should those manifests be emptied by hand later.
    empty = (
        found.sections == {} and not found.has_products and not ports.store.manifests.written(MANIFEST_ITEMS)
    )
    # Not empty: a stale finding of an earlier setup is marked used, never trusted.
    empty_at_setup(ports.store).save(EmptyAtSetup(checked_at=ports.store.table.clock(), used=not empty))
    if empty:
        return "catalog: holds no product and no synced section yet (the first load skips its probe)"
    return "catalog: already holds products or sections; the first load adopts them by xmlId"
