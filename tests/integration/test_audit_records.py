"""The audit store keeps each item under its day and under the record it concerns: a record's
history is one query, newest first, and expires with the day item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.domain.records import RecordRef
from bridge.store import SyncStore

pytestmark = pytest.mark.integration
REF = "39db6ad9-e739-4fe6-b691-9a0a29b6518e"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 23, 59, 58, tzinfo=UTC)

    def __call__(self) -> float:
        return self.now.timestamp()

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_a_records_history_is_newest_first_across_days_and_flows(sync_table: str, dynamodb: Any) -> None:
    clock = Clock()
    store = SyncStore(sync_table, dynamodb, clock, audit_ttl_days=30)
    store.audit.record("deals", "DEAL-42", "UnmatchedProducts", {"text": "нет номенклатуры"})
    clock.tick(3)  # the next day
    store.audit.record("b24-events", "DEAL-42", "done", {"detail": "order created"}, daily=False)
    clock.tick(0.001)
    store.audit.record(
        "payments", f"ORDER-{REF}", "failed", {"error": "400"}, records=[RecordRef(kind="deal", key="42")]
    )
    clock.tick(0.001)
    store.audit.record("deals", "DEAL-43", "NoBuyer", {})
    clock.tick(0.001)
    store.audit.record("parties", "B24#CONTACT#5", "failed", {"error": "x"})

    history = store.audit.history(RecordRef(kind="deal", key="42"))

    assert [(e.flow, e.outcome) for e in history] == [
        ("payments", "failed"),
        ("b24-events", "done"),
        ("deals", "UnmatchedProducts"),
    ]
    assert [e.outcome for e in store.audit.history(RecordRef(kind="order", key=REF))] == ["failed"]
    # A routine note stays out of the day's review; problems are there.
    day = clock.now.date()
    assert [(e.flow, e.outcome) for e in store.audit.list(day)] == [
        ("payments", "failed"),
        ("deals", "NoBuyer"),
        ("parties", "failed"),
    ]
    since = store.audit.since(clock.now - timedelta(hours=24))
    assert [e.outcome for e in since] == ["UnmatchedProducts", "failed", "NoBuyer", "failed"]


def test_the_record_copy_expires_with_the_audit_item(sync_table: str, dynamodb: Any) -> None:
    clock = Clock()
    store = SyncStore(sync_table, dynamodb, clock, audit_ttl_days=1)
    store.audit.record("deals", "DEAL-7", "NoBuyer", {})
    clock.tick(86_400 + 5)

    assert store.audit.history(RecordRef(kind="deal", key="7")) == []
