"""SyncStore against SyncTable built from template.yaml, served by moto over HTTP."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.errors import PermanentError, TransientError
from bridge.store import B24Ref, CursorConflict, LinkConflict, LinkNotFound, OneCRef, SyncStore

pytestmark = pytest.mark.integration

ORDERS = "Document_ЗаказПокупателя"
ORDER_A = "b1c89da7-cb6a-11e6-aede-5404a6b4b8ed"
ORDER_B = "8bbfc2c7-cdb9-11e6-aede-5404a6b4b8ed"
DEAL = B24Ref(entity="DEAL", id="123")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta.total_seconds()


def order(ref: str) -> OneCRef:
    return OneCRef(entity_set=ORDERS, ref=ref)


def raw_item(dynamodb: Any, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    ).get("Item")
    return item


@pytest.fixture
def store(sync_table: str, dynamodb: Any) -> SyncStore:
    return SyncStore(sync_table, dynamodb)


def test_a_link_is_found_from_both_sides(store: SyncStore) -> None:
    written = store.links.link(
        DEAL, order(ORDER_A.upper()), fingerprint="fp1", data_version="AAAAAAAAAAA=", extra={"n": "1"}
    )

    by_b24 = store.links.find_by_b24(B24Ref(entity="DEAL", id=123))
    by_onec = store.links.find_by_onec(order(ORDER_A))

    assert by_b24 == by_onec == written
    assert by_b24 is not None
    assert by_b24.onec.ref == ORDER_A
    assert by_b24.extra == {"n": "1"}
    assert store.links.find_by_b24(B24Ref(entity="DEAL", id="999")) is None


def test_relinking_the_same_pair_is_idempotent(store: SyncStore) -> None:
    store.links.link(DEAL, order(ORDER_A), fingerprint="fp1")
    again = store.links.link(DEAL, order(ORDER_A), fingerprint="fp2")

    assert store.links.find_by_b24(DEAL) == again
    assert store.links.find_by_onec(order(ORDER_A)) == again


def test_a_conflicting_link_writes_neither_item(store: SyncStore, dynamodb: Any, sync_table: str) -> None:
    store.links.link(DEAL, order(ORDER_A), fingerprint="fp1")

    with pytest.raises(LinkConflict) as raised:
        store.links.link(DEAL, order(ORDER_B), fingerprint="fp2")

    assert isinstance(raised.value, PermanentError)
    assert "DEAL 123" in str(raised.value)
    assert ORDER_A in str(raised.value)
    assert ORDER_B in str(raised.value)
    # The 1C side of the rejected pair had no item and was not written either.
    assert raw_item(dynamodb, sync_table, f"1C#{ORDERS}#{ORDER_B}", "LINK") is None
    assert store.links.find_by_onec(order(ORDER_B)) is None
    found = store.links.find_by_b24(DEAL)
    assert found is not None
    assert found.onec.ref == ORDER_A


def test_the_other_direction_conflicts_too(store: SyncStore) -> None:
    store.links.link(DEAL, order(ORDER_A), fingerprint="fp1")
    other_deal = B24Ref(entity="DEAL", id="124")

    with pytest.raises(LinkConflict):
        store.links.link(other_deal, order(ORDER_A), fingerprint="fp2")

    assert store.links.find_by_b24(other_deal) is None


def race_to_link(store: SyncStore, deal: B24Ref, targets: list[OneCRef]) -> list[str]:
    """Each target linked to `deal` from its own thread, all released at once."""
    barrier = threading.Barrier(len(targets))
    outcomes: list[str] = []

    def work(target: OneCRef) -> None:
        barrier.wait()
        try:
            store.links.link(deal, target, fingerprint="fp")
            outcomes.append("won")
        except LinkConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=work, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_racing_workers_link_one_deal_exactly_once(store: SyncStore) -> None:
    for attempt in range(10):
        deal = B24Ref(entity="DEAL", id=f"race-{attempt}")
        targets = [
            order(ORDER_A.replace("b1c8", f"{attempt:04d}")),
            order(ORDER_B.replace("8bbf", f"{attempt:04d}")),
        ]

        assert sorted(race_to_link(store, deal, targets)) == ["conflict", "won"]

        winner = store.links.find_by_b24(deal)
        assert winner is not None
        loser = next(target for target in targets if target != winner.onec)
        assert store.links.find_by_onec(winner.onec) == winner
        assert store.links.find_by_onec(loser) is None


def test_update_sync_state_changes_both_items(sync_table: str, dynamodb: Any) -> None:
    clock = Clock(datetime(2025, 3, 1, tzinfo=UTC))
    timed = SyncStore(sync_table, dynamodb, clock)
    timed.links.link(DEAL, order(ORDER_A), fingerprint="fp1", data_version="AAAAAAAAAAA=")
    clock.advance(timedelta(minutes=5))

    updated = timed.links.update_sync_state(order(ORDER_A), fingerprint="fp2")

    assert updated.fingerprint == "fp2"
    assert updated.data_version == "AAAAAAAAAAA="
    assert updated.synced_at == datetime(2025, 3, 1, 0, 5, tzinfo=UTC)
    assert timed.links.find_by_b24(DEAL) == timed.links.find_by_onec(order(ORDER_A)) == updated

    bumped = timed.links.update_sync_state(DEAL, fingerprint="fp3", data_version="AAAAAAAAAAE=")
    assert timed.links.find_by_onec(order(ORDER_A)) == bumped
    assert bumped.data_version == "AAAAAAAAAAE="


def test_update_sync_state_needs_a_link(store: SyncStore) -> None:
    with pytest.raises(LinkNotFound):
        store.links.update_sync_state(DEAL, fingerprint="fp")


def test_note_extra_sets_one_entry_on_both_items_and_keeps_the_rest(store: SyncStore) -> None:
    linked = store.links.link(
        DEAL, order(ORDER_A), fingerprint="fp1", extra={"number": "00-1", "outcome": "open"}
    )

    store.links.note_extra(DEAL, order(ORDER_A), "seen_modify", "2025-03-01T10:00:05+03:00")

    expected = linked.model_copy(
        update={"extra": {"number": "00-1", "outcome": "open", "seen_modify": "2025-03-01T10:00:05+03:00"}}
    )
    assert store.links.find_by_b24(DEAL) == store.links.find_by_onec(order(ORDER_A)) == expected


def test_note_extra_refuses_a_pair_that_is_not_linked(store: SyncStore) -> None:
    store.links.link(DEAL, order(ORDER_A), fingerprint="fp1")
    with pytest.raises(LinkNotFound):
        store.links.note_extra(DEAL, order(ORDER_B), "seen_modify", "2025-03-01T10:00:05+03:00")
    found = store.links.find_by_b24(DEAL)
    assert found is not None
    assert "seen_modify" not in found.extra


def test_unlink_removes_both_items(store: SyncStore) -> None:
    store.links.link(DEAL, order(ORDER_A), fingerprint="fp1")

    removed = store.links.unlink(order(ORDER_A))

    assert removed is not None
    assert removed.b24 == DEAL
    assert store.links.find_by_b24(DEAL) is None
    assert store.links.find_by_onec(order(ORDER_A)) is None
    assert store.links.unlink(DEAL) is None
    # Once unlinked, the deal may be linked to another order.
    store.links.link(DEAL, order(ORDER_B), fingerprint="fp2")


def test_cursor_versions_guard_against_lost_updates(store: SyncStore) -> None:
    assert store.cursors.get("stock") is None
    first = store.cursors.put("stock", {"run_at": "2025-01-01T00:00:00", "seen": [1, 2]})
    assert first.version == 1

    with pytest.raises(CursorConflict):
        store.cursors.put("stock", {"run_at": "again"})

    second = store.cursors.put("stock", {"run_at": "2025-01-01T00:05:00"}, expected_version=1)
    assert second.version == 2

    with pytest.raises(CursorConflict) as raised:
        store.cursors.put("stock", {"run_at": "stale"}, expected_version=1)
    assert isinstance(raised.value, TransientError)

    current = store.cursors.get("stock")
    assert current is not None
    assert (current.version, current.value) == (2, {"run_at": "2025-01-01T00:05:00"})


def test_manifest_of_1200_objects_round_trips_and_removes(store: SyncStore) -> None:
    entries = {f"{index:08d}-0000-0000-0000-000000000000": f"AAAA{index}" for index in range(1200)}
    store.manifests.put_entries("products", entries, removed=[])

    assert store.manifests.get("products") == entries

    gone = list(entries)[:150]
    changed = {ref: "changed" for ref in list(entries)[150:160]}
    store.manifests.put_entries("products", changed, removed=gone)

    expected = {ref: value for ref, value in entries.items() if ref not in gone} | changed
    assert store.manifests.get("products") == expected
    assert store.manifests.get("other") == {}


def test_manifest_refuses_a_ref_both_changed_and_removed(store: SyncStore) -> None:
    with pytest.raises(ValueError, match="both updated and removed"):
        store.manifests.put_entries("products", {"a": "1"}, removed=["a"])


def test_expired_audit_items_are_absent_though_still_stored(sync_table: str, dynamodb: Any) -> None:
    clock = Clock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    store = SyncStore(sync_table, dynamodb, clock, audit_ttl_days=30)
    entry = store.audit.record("deal_to_order", "DEAL#123", "created", {"order": ORDER_A, "sum": 1500.5})
    clock.advance(timedelta(seconds=1))
    store.audit.record("deal_to_order", "DEAL#124", "skipped", {})

    listed = store.audit.list(datetime(2025, 3, 1).date())
    assert [(e.subject, e.outcome) for e in listed] == [("DEAL#123", "created"), ("DEAL#124", "skipped")]
    assert listed[0] == entry
    assert entry.detail == {"order": ORDER_A, "sum": 1500.5}
    assert entry.expires_at == datetime(2025, 3, 31, 12, 0, tzinfo=UTC)

    # Half a second after the first record's expiry, half a second before the second's.
    clock.advance(timedelta(days=30) - timedelta(seconds=0.5))

    assert [e.subject for e in store.audit.list(datetime(2025, 3, 1).date())] == ["DEAL#124"]
    stored = dynamodb.query(
        TableName=sync_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "AUDIT#2025-03-01"}},
    )["Items"]
    assert len(stored) == 2  # moto (like DynamoDB for a while) still holds the expired one


def test_unreachable_table_is_reported_as_a_store_error(dynamodb: Any) -> None:
    store = SyncStore(f"missing-{time.time_ns()}", dynamodb)

    with pytest.raises(PermanentError):
        store.links.find_by_b24(DEAL)


def test_resolved_configuration_round_trips_and_is_absent_before_setup(store: SyncStore) -> None:
    assert store.config.get("deals") is None
    store.config.put("deals", {"stage": "C1:NEW", "names": ["Продажи"]})
    store.config.put("deals", {"stage": "C1:PREPARATION", "names": ["Продажи"]})
    assert store.config.get("deals") == {"stage": "C1:PREPARATION", "names": ["Продажи"]}
    assert store.config.get("parties") is None
