"""Two concurrent clients with their own DynamoDB connections share one Bitrix24 request budget."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest

from bridge.b24.ratelimit import LocalBucket, RateLimiter
from bridge.store import SharedBucket, Table

pytestmark = pytest.mark.integration

BURST = 10
PER_SECOND = 2.0
RUN_S = 3.0
TOLERANCE = 2  # the last acquisition of each thread may land just after the deadline


def hammer(limiters: list[RateLimiter]) -> tuple[int, float]:
    """Each limiter acquires in its own thread as fast as allowed for RUN_S; total count and elapsed."""
    counts = [0] * len(limiters)
    failures: list[BaseException] = []
    start = time.monotonic()
    deadline = start + RUN_S

    def run(index: int, limiter: RateLimiter) -> None:
        try:
            while time.monotonic() < deadline:
                limiter.acquire()
                counts[index] += 1
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, limiter)) for i, limiter in enumerate(limiters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RUN_S + 30)
    assert not failures, failures
    return sum(counts), time.monotonic() - start


def allowed(elapsed: float) -> float:
    return BURST + PER_SECOND * elapsed + TOLERANCE


def test_two_clients_never_exceed_one_shared_budget(moto_endpoint: str, sync_table: str) -> None:
    def bucket() -> SharedBucket:
        own_client: Any = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="eu-central-1")
        return SharedBucket(Table(sync_table, own_client), burst=BURST, per_second=PER_SECOND)

    total, elapsed = hammer([bucket(), bucket()])

    assert total >= BURST  # the burst itself went through
    assert total <= allowed(elapsed)


def test_in_process_buckets_alone_would_overspend() -> None:
    """Why the bucket is shared: two Lambdas with private buckets spend the budget twice."""
    total, elapsed = hammer([LocalBucket(BURST, PER_SECOND), LocalBucket(BURST, PER_SECOND)])
    assert total > allowed(elapsed)
