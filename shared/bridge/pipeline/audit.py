"""Queued events in SyncTable's audit: permanent failures (by day and by record, for people to
review) and every handled event (by record only, for `journal`)."""

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

    def record_handled(self, queued: QueuedEvent, status: str, detail: str | None) -> None:
        self._store.audit.record(
            AUDIT_FLOW,
            queued.group_id,
            status,
            {"event": queued.event, "ts": queued.ts, "received_at": queued.received_at, "detail": detail},
            daily=False,
        )
