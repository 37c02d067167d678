"""What the catalog flow reads from 1C: the cheap manifest, folders, changed items, prices, stock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from bridge.catalog.model import (
    FOLDER_FIELDS,
    HEADLINE_FIELDS,
    ITEM_FIELDS,
    Folder,
    Headline,
    Item,
    current_prices,
    sum_balances,
)
from bridge.domain.onec_sets import NOMENCLATURE, PRICES, STOCK
from bridge.onec.client import ODataClient
from bridge.onec.odata import Filter, any_of, eq, guid, normalize_ref

# Refs per `Ref_Key eq … or …` request: keeps the URL far below any server's limit.
REFS_PER_REQUEST = 25


def _refs_filter(field: str, refs: Sequence[str]) -> Filter:
    return any_of(*(Filter(f"{field} eq {guid(ref)}") for ref in refs))


def headlines(onec: ODataClient) -> list[Headline]:
    return [Headline.from_entity(e) for e in onec.iter_all(NOMENCLATURE, select=HEADLINE_FIELDS)]


def folders(onec: ODataClient) -> list[Folder]:
    return [
        Folder.from_entity(e)
        for e in onec.iter_all(NOMENCLATURE, filter=eq("IsFolder", True), select=FOLDER_FIELDS)
    ]


def items(onec: ODataClient, refs: Sequence[str], *, total: int, full_read_share: float) -> list[Item]:
    """The given items in full: one paged read of all items when many changed, else by ref."""
    if not refs:
        return []
    wanted = set(refs)
    if len(refs) > full_read_share * max(total, 1):
        return [item for item in all_items(onec) if item.ref in wanted]
    found: list[Item] = []
    for start in range(0, len(refs), REFS_PER_REQUEST):
        chunk = refs[start : start + REFS_PER_REQUEST]
        found += [
            Item.from_entity(e)
            for e in onec.list(NOMENCLATURE, filter=_refs_filter("Ref_Key", chunk), select=ITEM_FIELDS)
        ]
    return found


def all_items(onec: ODataClient) -> list[Item]:
    """Every item (not folder) in full: a first load reads this beside the manifest."""
    every = onec.iter_all(NOMENCLATURE, filter=eq("IsFolder", False), select=ITEM_FIELDS)
    return [Item.from_entity(e) for e in every]


def first_items(onec: ODataClient, count: int) -> list[Item]:
    """The first `count` items (not folders) in full, in the full read's order: a first load's head start."""
    rows = onec.list(
        NOMENCLATURE, filter=eq("IsFolder", False), select=ITEM_FIELDS, orderby="Ref_Key", top=count
    )
    return [Item.from_entity(e) for e in rows]


def existing_items(onec: ODataClient, refs: Sequence[str]) -> list[str]:
    """Those of `refs` that are items of 1C's nomenclature."""
    found: list[str] = []
    for start in range(0, len(refs), REFS_PER_REQUEST):
        chunk = refs[start : start + REFS_PER_REQUEST]
        rows = onec.list(NOMENCLATURE, filter=_refs_filter("Ref_Key", chunk), select=("Ref_Key", "IsFolder"))
        found += [normalize_ref(row["Ref_Key"]) for row in rows if not row.get("IsFolder")]
    return found


def _tomorrow() -> datetime:
    # Balance/SliceLast periods are exclusive "as of the start of" the moment; a day ahead includes
    # every movement of today whatever the 1C server's time zone.
    return (datetime.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def prices(onec: ODataClient, price_kind_ref: str) -> dict[str, Decimal]:
    rows = onec.slice_last(
        PRICES,
        period=_tomorrow(),
        condition=Filter(f"ВидЦен_Key eq {guid(price_kind_ref)}"),
        select=("Period", "ВидЦен_Key", "Номенклатура_Key", "Цена", "Актуальность"),
    )
    return current_prices(rows, price_kind_ref)


def quantities(
    onec: ODataClient, warehouse_refs: Sequence[str], only: Iterable[str] | None = None
) -> dict[str, Decimal]:
    """Stock per item summed over the warehouses; `only` narrows the read to a few items."""
    conditions: list[Filter] = []
    if warehouse_refs:
        conditions.append(_refs_filter("СтруктурнаяЕдиница_Key", warehouse_refs))
    subset = sorted(set(only)) if only is not None else None
    if subset is not None and not subset:
        return {}
    if subset is not None and len(subset) <= REFS_PER_REQUEST:
        conditions.append(_refs_filter("Номенклатура_Key", subset))
    condition = None
    if conditions:
        condition = (
            conditions[0] if len(conditions) == 1 else Filter(" and ".join(f"({c})" for c in conditions))
        )
    rows = onec.balance(
        STOCK,
        period=_tomorrow(),
        condition=condition,
        dimensions=("Номенклатура", "СтруктурнаяЕдиница"),
        select=("Номенклатура_Key", "СтруктурнаяЕдиница_Key", "КоличествоBalance"),
    )
    totals = sum_balances(rows, warehouse_refs)
    if subset is not None:
        return {ref: totals.get(ref, Decimal(0)) for ref in subset}
    return totals
