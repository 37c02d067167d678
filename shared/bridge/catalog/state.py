"""The four manifests as typed maps, and a buffer that records changes after each batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bridge.catalog.model import (
    MANIFEST_ITEMS,
    MANIFEST_PRICES,
    MANIFEST_SECTIONS,
    MANIFEST_STOCK,
    Stored,
    StoredPrice,
    number_text,
)
from bridge.store import SyncStore


def load_stored(links: SyncStore, name: str) -> dict[str, Stored]:
    return {ref: Stored.decode(text) for ref, text in links.manifests.get(name).items()}


def load_prices(links: SyncStore) -> dict[str, StoredPrice]:
    return {ref: StoredPrice.decode(text) for ref, text in links.manifests.get(MANIFEST_PRICES).items()}


def load_stock(links: SyncStore) -> dict[str, Decimal]:
    return {ref: Decimal(text) for ref, text in links.manifests.get(MANIFEST_STOCK).items()}


# Entries by manifest name, and refs removed by manifest name.
type Pending = tuple[dict[str, dict[str, str]], dict[str, set[str]]]


def merge_pending(recorded: list[Pending]) -> Pending:
    """Several batches' pending changes as one, a later batch's change of an entry winning."""
    entries: dict[str, dict[str, str]] = {}
    removed: dict[str, set[str]] = {}
    for batch_entries, batch_removed in recorded:
        for name, changed in batch_entries.items():
            entries.setdefault(name, {}).update(changed)
            removed.get(name, set()).difference_update(changed)
        for name, gone in batch_removed.items():
            removed.setdefault(name, set()).update(gone)
            for ref in gone:
                entries.get(name, {}).pop(ref, None)
    return entries, removed


@dataclass
class ManifestBuffer:
    """Pending manifest changes; `flush` writes them (BatchWriteItem, 25 per request)."""

    links: SyncStore
    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    removed: dict[str, set[str]] = field(default_factory=dict)

    def put(self, name: str, ref: str, value: str) -> None:
        self.entries.setdefault(name, {})[ref] = value
        self.removed.get(name, set()).discard(ref)

    def remove(self, name: str, ref: str) -> None:
        self.removed.setdefault(name, set()).add(ref)
        self.entries.get(name, {}).pop(ref, None)

    def section(self, ref: str, stored: Stored) -> None:
        self.put(MANIFEST_SECTIONS, ref, stored.encode())

    def item(self, ref: str, stored: Stored) -> None:
        self.put(MANIFEST_ITEMS, ref, stored.encode())

    def price(self, ref: str, price: StoredPrice) -> None:
        self.put(MANIFEST_PRICES, ref, price.encode())

    def stock(self, ref: str, quantity: Decimal) -> None:
        self.put(MANIFEST_STOCK, ref, number_text(quantity))

    def forget_item(self, ref: str) -> None:
        for name in (MANIFEST_ITEMS, MANIFEST_PRICES, MANIFEST_STOCK):
            self.remove(name, ref)

    def flush(self) -> None:
        self.write(self.take())

    def take(self) -> Pending:
        """The pending changes, handed over; the buffer starts empty again."""
        pending = (self.entries, self.removed)
        self.entries, self.removed = {}, {}
        return pending

    def write(self, pending: Pending) -> None:
        entries_by_name, removed_by_name = pending
        changes = {
            name: (entries_by_name.get(name, {}), removed_by_name.get(name, set()))
            for name in sorted(set(entries_by_name) | set(removed_by_name))
        }
        changes = {name: change for name, change in changes.items() if change[0] or change[1]}
        if changes:
            # All manifests in one request: the items, prices and stock of a batch's products.
            self.links.manifests.put_changes(changes)


def forget_written(links: SyncStore, product_id: int) -> str | None:
    """The operator's `resync product`: the next nomenclature run reads this product's 1C item and
    writes it, its price and its stock again (the manifests no longer say they were written).
    Returns the 1C item's ref; None when no synced product has this Bitrix24 id."""
    found = [ref for ref, stored in load_stored(links, MANIFEST_ITEMS).items() if stored.b24_id == product_id]
    if not found:
        return None
    ref = found[0]
    buffer = ManifestBuffer(links)
    buffer.item(ref, Stored(product_id, "", ""))
    price = load_prices(links).get(ref)
    if price is not None:
        # Keep the price row's id (a second row is never added); no 1C price is negative, so the
        # next run sees a difference and writes the price.
        buffer.price(ref, StoredPrice(price.price_id, Decimal(-1)))
    buffer.remove(MANIFEST_STOCK, ref)
    buffer.flush()
    return ref
