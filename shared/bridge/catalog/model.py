"""Pure wire models and mapping rules of the catalog flow (mappings.md §5).

1C objects are read from `Catalog_Номенклатура`; what was last written to Bitrix24 is kept in four
SyncTable manifests, one item per 1C object, as short texts (`encode`/`decode` here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, TypedDict

from bridge.catalog.resolved import CatalogResolved
from bridge.domain.fingerprint import fingerprint
from bridge.onec.odata import is_empty_ref, normalize_ref
from bridge.store.manifests import pack, unpack

MANIFEST_SECTIONS = "catalog-sections"
MANIFEST_ITEMS = "catalog-items"
MANIFEST_PRICES = "catalog-prices"
MANIFEST_STOCK = "catalog-stock"

HEADLINE_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark", "IsFolder", "ТипНоменклатуры")
FOLDER_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark", "Description", "Parent_Key")
ITEM_FIELDS = (
    "Ref_Key",
    "DataVersion",
    "DeletionMark",
    "Description",
    "НаименованиеПолное",
    "Артикул",
    "Parent_Key",
    "Недействителен",
    "ТипНоменклатуры",
)


def _parent(raw: Any) -> str | None:
    return None if not raw or is_empty_ref(str(raw)) else normalize_ref(str(raw))


class _Version(TypedDict):
    ref: str
    data_version: str


def _version(entity: Mapping[str, Any]) -> _Version:
    """Which object, in which version: what every row read from `Catalog_Номенклатура` starts with."""
    return {"ref": normalize_ref(entity["Ref_Key"]), "data_version": str(entity.get("DataVersion", ""))}


def _text(entity: Mapping[str, Any], name: str) -> str:
    return str(entity.get(name) or "").strip()


@dataclass(frozen=True, slots=True)
class Headline:
    """One row of the cheap 1C manifest (`$select=Ref_Key,DataVersion,DeletionMark,…`)."""

    ref: str
    data_version: str
    deletion_mark: bool
    is_folder: bool
    kind: str

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any]) -> Headline:
        flags = bool(entity.get("DeletionMark")), bool(entity.get("IsFolder"))
        return cls(
            **_version(entity),
            deletion_mark=flags[0],
            is_folder=flags[1],
            kind=_text(entity, "ТипНоменклатуры"),
        )


@dataclass(frozen=True, slots=True)
class Folder:
    ref: str
    name: str
    parent: str | None
    data_version: str
    deleted: bool

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any]) -> Folder:
        parent = _parent(entity.get("Parent_Key"))
        deleted = bool(entity.get("DeletionMark"))
        return cls(**_version(entity), name=_text(entity, "Description"), parent=parent, deleted=deleted)


@dataclass(frozen=True, slots=True)
class Item:
    ref: str
    name: str
    full_name: str
    article: str
    parent: str | None
    data_version: str
    deleted: bool  # DeletionMark or Недействителен: the product becomes inactive, reversibly
    kind: str

    @classmethod
    def from_entity(cls, entity: Mapping[str, Any]) -> Item:
        return cls(
            **_version(entity),
            name=_text(entity, "Description"),
            full_name=_text(entity, "НаименованиеПолное"),
            article=_text(entity, "Артикул"),
            parent=_parent(entity.get("Parent_Key")),
            deleted=bool(entity.get("DeletionMark")) or bool(entity.get("Недействителен")),
            kind=_text(entity, "ТипНоменклатуры"),
        )


class Stored(NamedTuple):
    """What the manifest remembers of a section or product: its Bitrix24 id and what was written."""

    b24_id: int
    data_version: str
    fingerprint: str

    def encode(self) -> str:
        # The id and the hex fingerprint never contain the separator, so any DataVersion survives.
        return pack(*self)

    @classmethod
    def decode(cls, text: str) -> Stored:
        b24_id, data_version, fp = unpack(text, 3)
        return cls(int(b24_id), data_version, fp)


class StoredPrice(NamedTuple):
    """The price row last written for a product: its id (None before Bitrix24 gave one) and amount."""

    price_id: int | None
    price: Decimal

    def encode(self) -> str:
        return pack(self.price_id or "", number_text(self.price))

    @classmethod
    def decode(cls, text: str) -> StoredPrice:
        price_id, price = unpack(text, 2)
        return cls(int(price_id) if price_id else None, Decimal(price))


def number_text(value: Decimal | float | int) -> str:
    number = Decimal(str(value)).normalize()
    return "0" if number == 0 else format(number, "f")


# ---- mapping ---------------------------------------------------------------------------------


def section_fingerprint(folder: Folder) -> str:
    # The parent is named by its 1C ref, not its Bitrix24 id, so a fingerprint never depends on
    # the order sections were created in.
    return fingerprint({"name": folder.name, "parent": folder.parent, "active": not folder.deleted})


def section_fields(
    folder: Folder, resolved: CatalogResolved, parent_section_id: int | None
) -> dict[str, Any]:
    return {
        "iblockId": resolved.iblock_id,
        "name": folder.name or folder.ref,
        "xmlId": folder.ref,
        "iblockSectionId": parent_section_id,
        "active": "N" if folder.deleted else "Y",
    }


def item_fingerprint(item: Item, resolved: CatalogResolved) -> str:
    return fingerprint(
        {
            "name": item.name,
            "full_name": item.full_name,
            "article": item.article,
            "article_key": resolved.article_key,
            "parent": item.parent,
            "active": not item.deleted,
        }
    )


def product_fields(item: Item, resolved: CatalogResolved, section_id: int | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "iblockId": resolved.iblock_id,
        "name": item.name or item.ref,
        "xmlId": item.ref,
        "iblockSectionId": section_id,
        "active": "N" if item.deleted else "Y",
    }
    # Empty never overwrites (architecture §3.5): a blank 1C value leaves Bitrix24's as it is.
    if item.full_name:
        fields["detailText"] = item.full_name
        fields["detailTextType"] = "text"
    if item.article:
        fields[resolved.article_key] = item.article
    return fields


def is_service(kind: str, service_kinds: Iterable[str]) -> bool:
    return kind in set(service_kinds)


def sum_balances(rows: Iterable[Mapping[str, Any]], warehouse_refs: Iterable[str]) -> dict[str, Decimal]:
    """`КоличествоBalance` per item over the configured warehouses (all when none configured)."""
    wanted = {normalize_ref(ref) for ref in warehouse_refs}
    totals: dict[str, Decimal] = {}
    for row in rows:
        ref = row.get("Номенклатура_Key")
        if not ref or is_empty_ref(str(ref)):
            continue
        warehouse = row.get("СтруктурнаяЕдиница_Key")
        if wanted and (not warehouse or normalize_ref(str(warehouse)) not in wanted):
            continue
        key = normalize_ref(str(ref))
        totals[key] = totals.get(key, Decimal(0)) + Decimal(str(row.get("КоличествоBalance") or 0))
    return totals


def current_prices(rows: Iterable[Mapping[str, Any]], price_kind_ref: str) -> dict[str, Decimal]:
    """Item → price of the configured kind from a `SliceLast` answer (the latest row wins)."""
    kind = normalize_ref(price_kind_ref)
    prices: dict[str, tuple[str, Decimal]] = {}
    for row in rows:
        if normalize_ref(str(row.get("ВидЦен_Key"))) != kind or row.get("Актуальность") is False:
            continue
        ref = normalize_ref(str(row["Номенклатура_Key"]))
        period = str(row.get("Period") or "")
        if ref not in prices or period >= prices[ref][0]:
            prices[ref] = (period, Decimal(str(row.get("Цена") or 0)))
    return {ref: price for ref, (_, price) in prices.items()}
