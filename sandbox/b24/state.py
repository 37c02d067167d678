"""All portal data in one JSON-friendly object, so reset/snapshot are trivial and tests can inspect it."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.b24.config import B24EmulatorConfig

TABLE_NAMES = (
    "deals",
    "companies",
    "contacts",
    "requisites",
    "addresses",
    "product_rows",
    "timeline_comments",
    "userfields",
    "userfield_enums",
    "statuses",
    "categories",
    "users",
    "presets",
    "catalogs",
    "sections",
    "products",
    "prices",
    "price_types",
    "stores",
    "store_products",
    "documents",
    "document_elements",
    "notifications",
    "workflows",
    "list_elements",
    "lists",
    "list_fields",
    "event_handlers",
    "offline_events",
    "multifields",
    "files",
    "product_properties",
    "property_values",
)


RowKey = Callable[[dict[str, Any]], Hashable]


@dataclass
class Table:
    """Rows by text key (composite keys allowed) plus the next numeric ID to hand out.

    `having` answers "which rows have this value" without a scan, as a portal's database index
    does: a uniqueness check per write over a scan made a 10 000-product load quadratic. The
    indexes are built on first use and kept by `put` and `delete`, so rows are never changed in
    place: a changed row is put again."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1
    _indexes: dict[RowKey, dict[Hashable, set[str]]] = field(default_factory=dict, repr=False, compare=False)

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def get(self, key: Any) -> dict[str, Any] | None:
        return self.rows.get(str(key))

    def put(self, key: Any, row: dict[str, Any]) -> dict[str, Any]:
        text = str(key)
        self._unindex(text)
        self.rows[text] = row
        for value_of, index in self._indexes.items():
            index.setdefault(value_of(row), set()).add(text)
        return row

    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        """Stores a new row of the catalog style (lower-case `id`) under the next id."""
        row["id"] = self.new_id()
        return self.put(row["id"], row)

    def delete(self, key: Any) -> dict[str, Any] | None:
        self._unindex(str(key))
        return self.rows.pop(str(key), None)

    def values(self) -> Iterator[dict[str, Any]]:
        return iter(list(self.rows.values()))

    def having(self, value_of: RowKey, value: Hashable) -> list[dict[str, Any]]:
        """The rows whose `value_of(row)` is `value`."""
        index = self._indexes.get(value_of)
        if index is None:
            index = self._indexes[value_of] = {}
            for text, row in self.rows.items():
                index.setdefault(value_of(row), set()).add(text)
        return [self.rows[text] for text in sorted(index.get(value, ()))]

    def _unindex(self, text: str) -> None:
        old = self.rows.get(text)
        if old is None:
            return
        for value_of, index in self._indexes.items():
            holders = index.get(value_of(old))
            if holders is not None:
                holders.discard(text)
                if not holders:
                    del index[value_of(old)]

    def to_json(self) -> dict[str, Any]:
        return {"next_id": self.next_id, "rows": self.rows}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        return cls(rows=dict(data.get("rows", {})), next_id=int(data.get("next_id", 1)))


@dataclass
class Fault:
    method: str  # lower-case method name or "*"
    remaining: int
    error: str | int
    description: str
    status: int


@dataclass
class Portal:
    """Mutable portal state. Guard every read-modify-write with `lock` (delivery runs in a thread)."""

    config: B24EmulatorConfig
    tables: dict[str, Table] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    journal_seq: int = 0
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for name in TABLE_NAMES:
            self.tables.setdefault(name, Table())

    def table(self, name: str) -> Table:
        return self.tables[name]

    # -- persistence -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                {
                    "tables": {name: t.to_json() for name, t in self.tables.items()},
                    "settings": self.settings,
                }
            )

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.tables = {name: Table.from_json(t) for name, t in data.get("tables", {}).items()}
            for name in TABLE_NAMES:
                self.tables.setdefault(name, Table())
            self.settings = dict(data.get("settings", {}))

    def clear(self) -> None:
        with self.lock:
            self.tables = {name: Table() for name in TABLE_NAMES}
            self.settings = {}
            self.journal.clear()
            self.deliveries.clear()
            self.faults.clear()

    # -- journal -----------------------------------------------------------------------------
    def record_call(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.journal_seq += 1
            # `time` (epoch seconds) lets a reader that polls now and then still time each call.
            entry = {"seq": self.journal_seq, "time": time.time(), **entry}
            self.journal.append(entry)
            return entry

    # -- fault injection ---------------------------------------------------------------------
    def take_fault(self, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.method in (method, "*"):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
        return None
