"""What the payments flow last wrote for one order; kept under the order's lease in SyncTable.

The lease and its storage are `bridge.store.lease.OrderLeases`; this is the value it holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from bridge.payments.models import AnnouncedPayment


@dataclass(frozen=True)
class OrderSyncState:
    fields_fingerprint: str | None = None
    announced: dict[str, AnnouncedPayment] = field(default_factory=dict)
    registered: frozenset[str] = frozenset()
    last_state: str | None = None
    # Registry list elements as last written, by payment ref (their FIELDS: an update replaces all).
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Receipts with a row for the order that do not count, with the reason already audited.
    skipped: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "fields_fingerprint": self.fields_fingerprint,
                "announced": [a.to_json() for a in self.announced.values()],
                "registered": sorted(self.registered),
                "last_state": self.last_state,
                "listed": self.listed,
                "skipped": self.skipped,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | None) -> OrderSyncState:
        if not text:
            return cls()
        data: dict[str, Any] = json.loads(text)
        announced = [AnnouncedPayment.from_json(a) for a in data.get("announced", [])]
        return cls(
            fields_fingerprint=data.get("fields_fingerprint"),
            announced={a.ref: a for a in announced},
            registered=frozenset(data.get("registered", [])),
            last_state=data.get("last_state"),
            listed=dict(data.get("listed") or {}),
            skipped=dict(data.get("skipped") or {}),
        )

    def evolve(self, **changes: Any) -> OrderSyncState:
        return replace(self, **changes)
