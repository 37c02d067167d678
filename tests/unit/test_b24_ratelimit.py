"""The client-side leaky bucket: in process, and shared through one SyncTable item (moto in process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bridge import deps
from bridge.b24.ratelimit import SAFETY_MARGIN, LocalBucket
from bridge.settings import reset_caches
from bridge.store import SharedBucket, Table
from sandbox.template import create_table_from_template
from tests.harness.clock import FakeTime


def acquisitions_within(bucket: LocalBucket | SharedBucket, fake_time: FakeTime, seconds: float) -> int:
    start = fake_time.now
    count = 0
    while True:
        bucket.acquire()
        if fake_time.now - start > seconds:
            return count
        count += 1


def test_local_bucket_lets_the_burst_through_then_drains_at_the_rate() -> None:
    fake_time = FakeTime()
    bucket = LocalBucket(burst=5, per_second=2.0, clock=fake_time.clock, sleep=fake_time.sleep)

    for _ in range(5):
        bucket.acquire()
    assert fake_time.sleeps == []
    bucket.acquire()
    assert fake_time.sleeps == [pytest.approx(0.5)]


def test_local_bucket_over_ten_seconds_allows_burst_plus_rate() -> None:
    fake_time = FakeTime()
    bucket = LocalBucket(burst=5, per_second=2.0, clock=fake_time.clock, sleep=fake_time.sleep)
    assert acquisitions_within(bucket, fake_time, 10.0) == 5 + 20


def test_cost_outside_the_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="burst size"):
        LocalBucket(burst=5).acquire(6)


@pytest.fixture
def table() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        name = f"SyncTable-{uuid.uuid4().hex[:8]}"
        create_table_from_template(client, "SyncTable", name)
        yield client, name


def test_shared_bucket_state_lives_in_one_table_item(table: tuple[Any, str]) -> None:
    client, name = table
    fake_time = FakeTime()
    bucket = SharedBucket(Table(name, client, fake_time.clock, fake_time.sleep), burst=5, per_second=2.0)

    bucket.acquire()
    bucket.acquire()

    item = client.get_item(TableName=name, Key={"pk": {"S": "RATE#b24"}, "sk": {"S": "STATE"}})["Item"]
    assert float(item["level"]["N"]) == 2.0
    assert item["version"]["N"] == "2"


def test_two_shared_buckets_spend_one_budget(table: tuple[Any, str]) -> None:
    client, name = table
    fake_time = FakeTime()
    first = SharedBucket(Table(name, client, fake_time.clock, fake_time.sleep), burst=5, per_second=2.0)
    second = SharedBucket(Table(name, client, fake_time.clock, fake_time.sleep), burst=5, per_second=2.0)

    for _ in range(3):
        first.acquire()
    second.acquire()
    second.acquire()
    assert fake_time.sleeps == []
    second.acquire()  # the sixth request overall waits, though `second` made only three
    assert fake_time.sleeps == [pytest.approx(0.5)]


def test_shared_bucket_retries_after_losing_a_race(table: tuple[Any, str]) -> None:
    client, name = table
    fake_time = FakeTime()
    rival = SharedBucket(Table(name, client, fake_time.clock, fake_time.sleep), burst=5, per_second=2.0)

    class RacingClient:
        """Lets the rival write between our read and our conditional write, once."""

        def __init__(self) -> None:
            self.raced = False
            self.puts = 0

        def get_item(self, **kwargs: Any) -> Any:
            return client.get_item(**kwargs)

        def put_item(self, **kwargs: Any) -> Any:
            self.puts += 1
            if not self.raced:
                self.raced = True
                rival.acquire()
            return client.put_item(**kwargs)

    racing = RacingClient()
    bucket = SharedBucket(Table(name, racing, fake_time.clock, fake_time.sleep), burst=5, per_second=2.0)  # type: ignore[arg-type]
    bucket.acquire()

    item = client.get_item(TableName=name, Key={"pk": {"S": "RATE#b24"}, "sk": {"S": "STATE"}})["Item"]
    assert float(item["level"]["N"]) == 2.0  # both acquisitions counted, none overwritten
    assert racing.puts == 2


def test_the_wired_limiter_uses_the_plan_and_table(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _client, name = table
    monkeypatch.setenv("BRIDGE_TABLE_NAME", name)
    monkeypatch.setenv("BRIDGE_B24_WEBHOOK_URL", "https://portal.example/rest/1/c0de/")
    monkeypatch.setenv("BRIDGE_B24_APPLICATION_TOKEN", "t0ken")
    monkeypatch.setenv("BRIDGE_ONEC_BASE_URL", "http://1c.local/unf/odata/standard.odata/")
    monkeypatch.setenv("BRIDGE_ONEC_USER", "odata")
    monkeypatch.setenv("BRIDGE_ONEC_PASSWORD", "secret-password")
    monkeypatch.delenv("BRIDGE_SECRET_ID", raising=False)
    monkeypatch.setenv("BRIDGE_B24_RATE_LIMIT", '{"burst": 250, "per_second": 5}')
    reset_caches()
    deps.reset()
    try:
        bucket = deps.b24_client().limiter
        assert isinstance(bucket, SharedBucket)
        assert (bucket.table_name, bucket.burst, bucket.per_second) == (name, 250, 5.0)
        assert bucket.capacity == 250 - SAFETY_MARGIN  # a small margin below the portal's bucket
        assert 0 < SAFETY_MARGIN < 1
        monkeypatch.setenv("BRIDGE_B24_RATE_LIMIT", '{"burst": 10, "per_second": 1.0}')
        reset_caches()
        deps.reset()
        custom = deps.b24_client().limiter
        assert isinstance(custom, SharedBucket)
        assert (custom.burst, custom.per_second) == (10, 1.0)
    finally:
        deps.reset()
        reset_caches()


def test_a_safety_margin_keeps_slots_free_below_the_portals_bucket() -> None:
    fake_time = FakeTime()
    bucket = LocalBucket(burst=5, per_second=2.0, clock=fake_time.clock, sleep=fake_time.sleep, margin=1.0)

    for _ in range(4):
        bucket.acquire()
    assert fake_time.sleeps == []
    bucket.acquire()  # the fifth would fill the portal's bucket to the brim: wait one slot instead
    assert fake_time.sleeps == [pytest.approx(0.5)]
