"""Manifests as logs of immutable segments, against SyncTable served by moto (bridge.store.manifests)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.store import SyncStore
from bridge.store import manifests as manifest_module
from bridge.store.items import manifest_pk

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta.total_seconds()


@pytest.fixture
def store(sync_table: str, dynamodb: Any) -> SyncStore:
    return SyncStore(sync_table, dynamodb)


def stored_items(dynamodb: Any, table: str, name: str) -> list[dict[str, Any]]:
    """What SyncTable holds for the manifest, item by item."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": manifest_pk(name)}},
        "ConsistentRead": True,
    }
    while True:
        page = dynamodb.query(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def refs(count: int, start: int = 0) -> list[str]:
    return [f"{index:08d}-aaaa-bbbb-cccc-{index:012d}" for index in range(start, start + count)]


def test_three_thousand_entries_of_three_manifests_are_one_request_of_three_items(
    store: SyncStore, dynamodb: Any, sync_table: str
) -> None:
    products = refs(1000)
    requests: list[dict[str, Any]] = []
    dynamodb.meta.events.register("before-call.dynamodb.BatchWriteItem", lambda **kw: requests.append(kw))

    store.manifests.put_changes(
        {
            "items": ({ref: f"{index}|v1|fp" for index, ref in enumerate(products)}, ()),
            "prices": ({ref: f"{index}|100.00" for index, ref in enumerate(products)}, ()),
            "stock": ({ref: "5" for ref in products}, ()),
        }
    )

    assert len(requests) == 1
    items_per_manifest = [
        len(stored_items(dynamodb, sync_table, name)) for name in ("items", "prices", "stock")
    ]
    assert items_per_manifest == [1, 1, 1]
    assert store.manifests.get("prices")[products[999]] == "999|100.00"
    assert len(store.manifests.get("stock")) == 1000


def test_a_manifest_of_the_first_layout_is_read_then_folded_into_segments(
    store: SyncStore, dynamodb: Any, sync_table: str
) -> None:
    """Tables written before segments hold one item per entry (sk = ref, `value`): still read, and a
    later write wins over them whatever the clocks say."""
    old = refs(manifest_module.COMPACT_AFTER + 4)
    for index, ref in enumerate(old):
        dynamodb.put_item(
            TableName=sync_table,
            Item={"pk": {"S": manifest_pk("legacy")}, "sk": {"S": ref}, "value": {"S": f"old{index}"}},
        )
    store.manifests.put_entries("legacy", {old[0]: "new0"}, removed=[old[1]])

    # This read finds 21 items, more than COMPACT_AFTER: it answers, then compacts.
    first = store.manifests.get("legacy")

    expected = {ref: f"old{index}" for index, ref in enumerate(old)} | {old[0]: "new0"}
    del expected[old[1]]
    assert first == expected
    left = stored_items(dynamodb, sync_table, "legacy")
    assert len(left) == 1
    assert "segment" in left[0]
    assert store.manifests.get("legacy") == expected


def test_a_removal_outlives_a_compaction_for_an_hour_then_goes(
    sync_table: str, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_module, "COMPACT_AFTER", 1)
    # Stamps count from this test's clock, not from whatever clock an earlier test wrote with.
    monkeypatch.setattr(manifest_module, "_STAMPS", manifest_module._Stamps())
    clock = Clock()
    store = SyncStore(sync_table, dynamodb, clock)
    store.manifests.put_entries("orders", {"a": "1", "b": "2"}, removed=[])
    store.manifests.put_entries("orders", {}, removed=["a"])

    assert store.manifests.get("orders") == {"b": "2"}  # compacts: the removal of "a" is kept
    segment = stored_items(dynamodb, sync_table, "orders")[0]["segment"]["S"]
    assert '"a":[null,' in segment

    clock.advance(timedelta(hours=1, seconds=1))
    store.manifests.put_entries("orders", {"c": "3"}, removed=[])
    assert store.manifests.get("orders") == {"b": "2", "c": "3"}
    assert all('"a"' not in item["segment"]["S"] for item in stored_items(dynamodb, sync_table, "orders"))


def test_an_item_left_behind_by_a_compaction_cannot_undo_a_removal(
    sync_table: str, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction deletes what it read after writing its own segments; a crash in between, or a
    Query slow enough to pass an item before its delete, leaves an old item beside the new ones.
    A removal that old item's value could undo is kept until no other item names the ref."""
    monkeypatch.setattr(manifest_module, "COMPACT_AFTER", 1)
    monkeypatch.setattr(manifest_module, "_STAMPS", manifest_module._Stamps())
    clock = Clock()
    store = SyncStore(sync_table, dynamodb, clock)
    store.manifests.put_entries("orders", {"a": "1", "b": "2"}, removed=[])
    (written,) = stored_items(dynamodb, sync_table, "orders")
    clock.advance(timedelta(minutes=1))
    store.manifests.put_entries("orders", {}, removed=["a"])
    clock.advance(timedelta(hours=2))

    assert store.manifests.get("orders") == {"b": "2"}  # compacts; "a" is named twice, so kept
    dynamodb.put_item(TableName=sync_table, Item=written)  # the first write, left behind

    assert store.manifests.get("orders") == {"b": "2"}


def test_entries_that_escape_to_many_bytes_still_fit_the_item_limit(
    store: SyncStore, dynamodb: Any, sync_table: str
) -> None:
    # A control character is one character and six bytes of JSON (\u0001): 4 × the estimate.
    entries = {ref: "\x01" * 60 for ref in refs(4000)}
    store.manifests.put_entries("escaped", entries, removed=[])

    items = stored_items(dynamodb, sync_table, "escaped")
    assert max(len(item["segment"]["S"].encode()) for item in items) <= manifest_module.ITEM_BYTES
    assert store.manifests.get("escaped") == entries


def test_a_big_manifest_is_cut_into_segments_under_the_item_limit(
    store: SyncStore, dynamodb: Any, sync_table: str
) -> None:
    # Cyrillic values: two UTF-8 bytes a character, which is what DynamoDB's 400 KB limit counts.
    entries = {ref: "Номенклатура " * 8 + ref for ref in refs(6000)}
    store.manifests.put_entries("big", entries, removed=[])

    items = stored_items(dynamodb, sync_table, "big")
    assert len(items) > 1
    assert max(len(item["segment"]["S"].encode()) for item in items) < 350_000
    assert store.manifests.get("big") == entries


def test_writers_and_compactions_at_once_lose_no_entry(
    sync_table: str, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four writers (four Lambda containers) and a reader compacting after every few items."""
    monkeypatch.setattr(manifest_module, "COMPACT_AFTER", 3)
    barrier = threading.Barrier(5)
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        store = SyncStore(sync_table, dynamodb)
        barrier.wait()
        for round_ in range(10):
            store.manifests.put_entries("shared", {f"w{worker}-r{round_}": str(round_)}, removed=[])

    def compact() -> None:
        store = SyncStore(sync_table, dynamodb)
        barrier.wait()
        for _ in range(15):
            store.manifests.get("shared")

    def guarded(target: Any, *args: Any) -> None:
        try:
            target(*args)
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=guarded, args=(write, worker)) for worker in range(4)]
    threads.append(threading.Thread(target=guarded, args=(compact,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    expected = {f"w{worker}-r{round_}": str(round_) for worker in range(4) for round_ in range(10)}
    assert SyncStore(sync_table, dynamodb).manifests.get("shared") == expected


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("put"),
            st.dictionaries(st.sampled_from("abcdefgh"), st.text(max_size=5), max_size=4),
            st.sets(st.sampled_from("abcdefgh"), max_size=3),
        ),
        st.tuples(st.just("read"), st.just({}), st.just(set())),
        st.tuples(st.just("wait"), st.just({}), st.just(set())),
    ),
    max_size=12,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_a_manifest_reads_as_the_plain_map_its_writes_describe(
    sync_table: str, dynamodb: Any, steps: list[tuple[str, dict[str, str], set[str]]]
) -> None:
    """Whatever the order of writes, removals, compacting reads and hours passing, a read equals
    the map the same writes make of a dict."""
    clock = Clock()
    store = SyncStore(sync_table, dynamodb, clock)
    name = uuid.uuid4().hex
    model: dict[str, str] = {}
    original = manifest_module.COMPACT_AFTER
    manifest_module.COMPACT_AFTER = 2
    try:
        for kind, entries, removed in steps:
            if kind == "put":
                removed = removed - entries.keys()
                store.manifests.put_entries(name, entries, removed)
                model |= entries
                for ref in removed:
                    model.pop(ref, None)
            elif kind == "read":
                assert store.manifests.get(name) == model
            else:
                clock.advance(timedelta(minutes=45))
        assert store.manifests.get(name) == model
    finally:
        manifest_module.COMPACT_AFTER = original


def test_a_few_small_writes_fold_together_and_leave_the_full_segments_alone(
    store: SyncStore, dynamodb: Any, sync_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stock cycle adds a few small segments to a big catalog manifest every five minutes:
    compacting them must not rewrite the whole manifest each time (write units, not correctness)."""
    monkeypatch.setattr(manifest_module, "SEGMENT_BYTES", 30_000)
    products = refs(1200)
    store.manifests.put_entries("stock", {ref: "5" for ref in products}, removed=[])
    written = stored_items(dynamodb, sync_table, "stock")
    full = {item["sk"]["S"] for item in written if len(item["segment"]["S"]) >= 15_000}
    for index in range(manifest_module.COMPACT_AFTER + 1):
        store.manifests.put_entries("stock", {products[index]: "7"}, removed=[])

    assert store.manifests.get("stock") == {ref: "5" for ref in products} | dict.fromkeys(products[:17], "7")
    left = {item["sk"]["S"] for item in stored_items(dynamodb, sync_table, "stock")}
    assert len(full) == 3
    assert full < left
    assert len(left - full) == 1  # the 17 small segments and the last piece of the first write, now one


def test_a_manifest_mostly_rewritten_is_compacted_whole(
    store: SyncStore, dynamodb: Any, sync_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_module, "SEGMENT_BYTES", 30_000)
    monkeypatch.setattr(manifest_module, "COMPACT_AFTER", 8)
    products = refs(1200)
    for version in range(3):  # every entry written three times: two thirds of what is stored is stale
        store.manifests.put_entries("items", {ref: f"v{version}" for ref in products}, removed=[])
    assert len(stored_items(dynamodb, sync_table, "items")) == 12

    assert store.manifests.get("items") == dict.fromkeys(products, "v2")
    assert len(stored_items(dynamodb, sync_table, "items")) == 4
    assert store.manifests.get("items") == dict.fromkeys(products, "v2")


def test_a_compaction_dynamodb_turns_down_leaves_the_read_standing_and_says_so(
    store: SyncStore, dynamodb: Any, sync_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    for index in range(manifest_module.COMPACT_AFTER + 1):
        store.manifests.put_entries("payments", {f"doc-{index}": str(index)}, removed=[])
    busy = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}

    def throttled(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=400, headers={}), {
            **busy,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    dynamodb.meta.events.register("before-call.dynamodb.BatchWriteItem", throttled)
    try:
        read = store.manifests.get("payments")
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.BatchWriteItem", throttled)

    assert read == {f"doc-{index}": str(index) for index in range(manifest_module.COMPACT_AFTER + 1)}
    assert "manifest not compacted" in [record.getMessage() for record in caplog.records]
    assert len(stored_items(dynamodb, sync_table, "payments")) == manifest_module.COMPACT_AFTER + 1


def test_written_says_whether_anything_was_ever_recorded(store: SyncStore) -> None:
    assert store.manifests.written("catalog-items") is False

    store.manifests.put_entries("catalog-items", {}, removed=["gone"])

    # A removal is a record too: a catalog whose products were all deleted is past its first load.
    assert store.manifests.written("catalog-items") is True
    assert store.manifests.get("catalog-items") == {}
