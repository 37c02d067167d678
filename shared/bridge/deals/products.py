"""Deal product rows → 1C nomenclature.

First the catalog link (Bitrix24 product ↔ `Catalog_Номенклатура`, entity `PRODUCT`, written by
the catalog flow; `extra` may carry `unit` and `vat_rate`). For products without a link, one
`batch` reads them from Bitrix24 and one 1C query finds them by `xmlId` (the catalog flow writes
the nomenclature `Ref_Key` there) or by article (`Артикул` = `xmlId` when that is not a GUID).
Unit and VAT rate come from the nomenclature when read, else from the row's measure code and tax
rate through the classifiers setup resolved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from bridge.b24.models import Command
from bridge.deals.mapping import ProductRefs
from bridge.deals.models import ProductRow
from bridge.deals.resolved import DealResolved
from bridge.domain.onec_sets import NOMENCLATURE
from bridge.onec.odata import EMPTY_REF, any_of, eq, guid
from bridge.ports import Ports
from bridge.store.models import B24Ref

PRODUCT_ENTITY = "PRODUCT"


def _guid_or_none(text: str) -> str | None:
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None


def _ref(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return None if not text or text == EMPTY_REF else text


def vat_for(row: ProductRow, resolved: DealResolved) -> str | None:
    # No TAX_RATE on the row means "not set", not "без НДС": leave the rate to 1C.
    if row.tax_rate is None:
        return None
    return resolved.vat_rates.get(f"{float(row.tax_rate):g}")


def _refs(
    row: ProductRow, nomenclature: str, unit: str | None, vat: str | None, resolved: DealResolved
) -> ProductRefs:
    """The rate the manager sees on the deal row wins; the nomenclature's rate fills in when the
    row has none (or 1C has no rate of that percentage). The VAT amount follows the chosen rate."""
    rate = vat_for(row, resolved) or vat
    return ProductRefs(
        nomenclature=nomenclature,
        unit=unit or resolved.unit_for(row.measure_code),
        vat_rate=rate,
        vat_percent=resolved.vat_percent(rate),
    )


def amount_item_refs(resolved: DealResolved) -> ProductRefs | None:
    """The service that carries a row-less deal's amount, as the mapping needs it."""
    item = resolved.amount_item
    if item is None:
        return None
    return ProductRefs(
        nomenclature=item.ref,
        unit=item.unit,
        vat_rate=item.vat_rate,
        vat_percent=resolved.vat_percent(item.vat_rate),
    )


def _b24_products(ports: Ports, product_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    commands = {f"p{pid}": Command("catalog.product.get", {"id": pid}) for pid in product_ids}
    if not commands:
        return {}
    answer = ports.b24.batch(commands)
    found: dict[int, dict[str, Any]] = {}
    for key, value in answer.result.items():
        product = value.get("product") if isinstance(value, dict) else None
        if isinstance(product, dict):
            found[int(key[1:])] = product
    return found


def match_products(
    ports: Ports, rows: tuple[ProductRow, ...], resolved: DealResolved
) -> dict[int, ProductRefs]:
    """Product id → 1C refs for every row that can be matched; unmatched ids are left out."""
    matched: dict[int, ProductRefs] = {}
    by_id = {row.product_id: row for row in rows if row.product_id}
    missing: list[int] = []
    for pid, row in by_id.items():
        link = ports.store.links.find_by_b24(B24Ref(entity=PRODUCT_ENTITY, id=str(pid)))
        if link is not None:
            matched[pid] = _refs(
                row, link.onec.ref, _ref(link.extra.get("unit")), _ref(link.extra.get("vat_rate")), resolved
            )
        else:
            missing.append(pid)
    if not missing:
        return matched
    xml_ids = {pid: by_id[pid].xml_id.strip() for pid in missing if by_id[pid].xml_id.strip()}
    unknown = [pid for pid in missing if pid not in xml_ids]
    for pid, product in _b24_products(ports, unknown).items():
        xml_id = str(product.get("xmlId") or "").strip()
        if xml_id:
            xml_ids[pid] = xml_id
    if not xml_ids:
        return matched
    conditions = [
        eq("Ref_Key", guid(ref)) if (ref := _guid_or_none(x)) else eq("Артикул", x)
        for x in set(xml_ids.values())
    ]
    rows_1c = ports.onec.list(
        NOMENCLATURE,
        filter=any_of(*conditions),
        select=["Ref_Key", "Артикул", "ЕдиницаИзмерения_Key", "СтавкаНДС_Key", "DeletionMark", "IsFolder"],
    )
    live = [r for r in rows_1c if not r.get("DeletionMark") and not r.get("IsFolder")]
    by_ref = {str(r["Ref_Key"]).lower(): r for r in live}
    by_article: dict[str, list[dict[str, Any]]] = {}
    for r in live:
        by_article.setdefault(str(r.get("Артикул") or "").strip().casefold(), []).append(r)
    for pid, xml_id in xml_ids.items():
        ref = _guid_or_none(xml_id)
        hit = by_ref.get(ref) if ref else None
        if hit is None and not ref:
            candidates = by_article.get(xml_id.casefold(), [])
            hit = candidates[0] if len(candidates) == 1 else None
        if hit is not None:
            matched[pid] = _refs(
                by_id[pid],
                str(hit["Ref_Key"]),
                _ref(hit.get("ЕдиницаИзмерения_Key")),
                _ref(hit.get("СтавкаНДС_Key")),
                resolved,
            )
    return matched
