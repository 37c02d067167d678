"""Permanent failures of queued events, written as SyncTable audit items for people to review."""

from __future__ import annotations

from bridge.domain.events import QueuedEvent
from bridge.store import SyncStore

AUDIT_FLOW = "b24-events"


class LinkStoreAudit:
    """The worker's audit port over the link store's audit items (kept `audit_ttl_days`)."""

    def __init__(self, store: SyncStore) -> None:
        self._store = store

    def record_failure(self, queued: QueuedEvent, reason: str) -> None:
        self._store.audit.record(
            AUDIT_FLOW,
            queued.group_id,
            "failed",
            {"event": queued.event, "ts": queued.ts, "received_at": queued.received_at, "reason": reason},
        )
