"""Pure decisions: what to create, update, touch or delete, given 1C's state and the manifests.

Nothing here talks to a system; the flow feeds it reads and executes what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.catalog.model import Folder, Headline, Item, Stored, StoredPrice


@dataclass(frozen=True, slots=True)
class Diff:
    """Refs new to us, refs whose DataVersion moved, refs gone from 1C."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    gone: tuple[str, ...]


def manifest_diff(current: Mapping[str, str], stored: Mapping[str, Stored]) -> Diff:
    """`current` maps ref → DataVersion (1C manifest) — deletion marks change the DataVersion too."""
    return Diff(
        new=tuple(ref for ref in current if ref not in stored),
        changed=tuple(ref for ref, dv in current.items() if ref in stored and stored[ref].data_version != dv),
        gone=tuple(ref for ref in stored if ref not in current),
    )


def synced_items(
    headlines: Iterable[Headline], *, include_services: bool, service_kinds: Iterable[str]
) -> dict[str, str]:
    """ref → DataVersion of the items (not folders) that belong in Bitrix24."""
    services = set(service_kinds)
    return {
        h.ref: h.data_version
        for h in headlines
        if not h.is_folder and (include_services or h.kind not in services)
    }


def folder_levels(folders: Iterable[Folder]) -> list[list[Folder]]:
    """Folders grouped by depth, roots first, so every parent exists before its children.

    A parent that is not a known folder (deleted, outside the publication) makes its child a root;
    a cycle (impossible in 1C, possible in broken data) is cut where it closes.
    """
    by_ref = {f.ref: f for f in folders}
    depth: dict[str, int] = {}

    def depth_of(ref: str, seen: frozenset[str]) -> int:
        if ref in depth:
            return depth[ref]
        parent = by_ref[ref].parent
        level = (
            0
            if parent is None or parent not in by_ref or parent in seen
            else depth_of(parent, seen | {ref}) + 1
        )
        depth[ref] = level
        return level

    for ref in by_ref:
        depth_of(ref, frozenset({ref}))
    levels: list[list[Folder]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for ref, level in depth.items():
        levels[level].append(by_ref[ref])
    return levels


@dataclass(slots=True)
class WritePlan[T]:
    """Objects to create, to update (with their Bitrix24 id), to only re-record, and to delete."""

    create: list[T] = field(default_factory=list)
    update: list[tuple[T, int]] = field(default_factory=list)
    touch: list[tuple[T, int]] = field(default_factory=list)
    delete: list[tuple[str, int]] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.create) + len(self.update) + len(self.delete)


def decide[T: (Folder, Item)](
    objects: Iterable[T],
    stored: Mapping[str, Stored],
    gone: Iterable[str],
    fingerprint_of: Mapping[str, str],
    found: Mapping[str, int],
) -> WritePlan[T]:
    """`objects`: the new and changed ones, read in full; `found`: ids adopted by xmlId lookup."""
    plan: WritePlan[T] = WritePlan()
    for obj in objects:
        known = stored.get(obj.ref)
        if known is None:
            adopted = found.get(obj.ref)
            if adopted is None:
                plan.create.append(obj)
            else:
                # Created by a run that crashed before recording it: bring it up to date, no duplicate.
                plan.update.append((obj, adopted))
        elif known.fingerprint != fingerprint_of[obj.ref]:
            plan.update.append((obj, known.b24_id))
        else:
            plan.touch.append((obj, known.b24_id))
    plan.delete = [(ref, stored[ref].b24_id) for ref in gone if ref in stored]
    return plan


@dataclass(frozen=True, slots=True)
class ProductWrite:
    """A value to write on one Bitrix24 product: the 1C item `ref` and the product id."""

    ref: str
    product_id: int


@dataclass(frozen=True, slots=True)
class PriceWrite(ProductWrite):
    price: Decimal
    price_id: int | None  # None: add a price row


def price_writes(
    targets: Mapping[str, Decimal],
    stored: Mapping[str, StoredPrice],
    products: Mapping[str, int],
    skip: Iterable[str] = (),
) -> list[PriceWrite]:
    """Prices that differ from what was last written, for products that exist in Bitrix24.

    An item without a price in 1C keeps whatever Bitrix24 has (empty never overwrites).
    """
    skipped = set(skip)
    writes: list[PriceWrite] = []
    for ref, product_id in products.items():
        if ref in skipped or ref not in targets:
            continue
        known = stored.get(ref)
        if known is None or known.price != targets[ref]:
            writes.append(PriceWrite(ref, product_id, targets[ref], known.price_id if known else None))
    return writes


@dataclass(frozen=True, slots=True)
class StockWrite(ProductWrite):
    quantity: Decimal
    previous: Decimal | None  # last written; None when unknown


def stock_writes(
    targets: Mapping[str, Decimal], stored: Mapping[str, Decimal], products: Mapping[str, int]
) -> list[StockWrite]:
    """Quantities that differ from the last written ones; an item with no balance rows has 0."""
    writes: list[StockWrite] = []
    for ref, product_id in products.items():
        quantity = targets.get(ref, Decimal(0))
        previous = stored.get(ref)
        if previous is None or previous != quantity:
            writes.append(StockWrite(ref, product_id, quantity, previous))
    return writes


def document_groups(
    writes: Iterable[StockWrite], size: int
) -> list[tuple[str, list[tuple[StockWrite, Decimal]]]]:
    """Stock changes as inventory documents: `S` (adjustment receipt) for increases, `D` (write-off)
    for decreases, at most `size` rows each; rows carry the amount to move."""
    increases: list[tuple[StockWrite, Decimal]] = []
    decreases: list[tuple[StockWrite, Decimal]] = []
    for write in writes:
        delta = write.quantity - (write.previous or Decimal(0))
        if delta > 0:
            increases.append((write, delta))
        elif delta < 0:
            decreases.append((write, -delta))
    groups: list[tuple[str, list[tuple[StockWrite, Decimal]]]] = []
    for doc_type, rows in (("S", increases), ("D", decreases)):
        groups += [(doc_type, rows[start : start + size]) for start in range(0, len(rows), size)]
    return groups
