"""Client-side copy of Bitrix24's leaky bucket, so we wait instead of collecting 503s.

Bitrix24 counts requests per portal (and calling IP): a bucket of `burst` requests draining at
`per_second` (standard plans 50 and 2/s). Every other client keeps that bucket in process memory,
which is wrong for Lambda: N concurrent invocations would each believe they own the whole budget.

`SharedBucket` keeps the one bucket in a SyncTable item that every invocation updates:

- State is `(level, updated_at, version)`; the level drains with time, so a reader computes the
  current level itself. DynamoDB cannot compute `level - elapsed * rate` inside an UpdateExpression,
  hence optimistic concurrency: read (consistent) → compute → put conditioned on the version read.
  A lost race (ConditionalCheckFailed) means someone else took a slot: re-read and try again. No
  lock is ever held, so a Lambda that dies mid-call cannot block the others.
- When the bucket is full the caller sleeps exactly until one slot has drained, then retries.
- `updated_at` never moves backwards, so a Lambda with a slow clock cannot make the bucket look
  emptier than it is to the others.

Costs two DynamoDB requests per Bitrix24 request, i.e. far below Bitrix24's own 2 req/s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from bridge.settings import RateLimit

Clock = Callable[[], float]
Sleep = Callable[[float], None]

RATE_KEY = "RATE#b24"
RATE_SORT_KEY = "STATE"
# Requests kept free below the portal's bucket size. Our copy of the bucket and the portal's start
# at different moments and see each request at slightly different times; filled to exactly the
# burst, that jitter costs a 503 and its back-off now and then. One slot is 0.5 s at 2 req/s.
SAFETY_MARGIN = 1.0
_MAX_RACES = 50  # consecutive lost races before we call the table unusable


class RateLimiter(Protocol):
    def acquire(self, cost: int = 1) -> None:
        """Block until `cost` requests fit into the bucket, then account for them."""


class RateLimiterUnavailable(TransientError):
    """The shared bucket's table cannot be read or written."""


def drained_level(level: float, updated_at: float, now: float, per_second: float) -> float:
    return max(0.0, level - max(0.0, now - updated_at) * per_second)


def _capacity(burst: int, margin: float) -> float:
    if not 0.0 <= margin < burst:
        raise ValueError(f"margin must be between 0 and the burst size {burst}, got {margin}")
    return burst - margin


def _check_cost(cost: int, burst: float) -> None:
    if cost < 1 or cost > burst:
        raise ValueError(f"cost must be between 1 and the burst size {burst}, got {cost}")


class LocalBucket:
    """The bucket in this process only (tests, scripts, a single-worker local stack)."""

    def __init__(
        self,
        burst: int = 50,
        per_second: float = 2.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        margin: float = 0.0,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.capacity = _capacity(burst, margin)
        self._clock = clock
        self._sleep = sleep
        self._level = 0.0
        self._updated_at = clock()
        self._lock = threading.Lock()

    def acquire(self, cost: int = 1) -> None:
        _check_cost(cost, self.capacity)
        while True:
            with self._lock:
                now = self._clock()
                level = drained_level(self._level, self._updated_at, now, self.per_second)
                if level + cost <= self.capacity:
                    self._level = level + cost
                    self._updated_at = now
                    return
                wait = (level + cost - self.capacity) / self.per_second
            self._sleep(wait)


class SharedBucket:
    """One bucket for every Lambda of the stack, in the SyncTable item (pk=RATE#b24, sk=STATE)."""

    def __init__(
        self,
        table_name: str,
        dynamodb_client: DynamoDBClient,
        key: str = RATE_KEY,
        burst: int = 50,
        per_second: float = 2.0,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        margin: float = 0.0,
    ) -> None:
        self.table_name = table_name
        self.key = key
        self.burst = burst
        self.per_second = per_second
        self.capacity = _capacity(burst, margin)
        self._dynamodb = dynamodb_client
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"SharedBucket(table={self.table_name!r}, key={self.key!r}, {self.burst}/{self.per_second}/s)"

    def acquire(self, cost: int = 1) -> None:
        _check_cost(cost, self.capacity)
        races = 0
        while True:
            level, updated_at, version = self._read()
            now = self._clock()
            current = drained_level(level, updated_at, now, self.per_second)
            if current + cost > self.capacity:
                self._sleep((current + cost - self.capacity) / self.per_second)
                continue
            if self._write(current + cost, max(now, updated_at), version):
                return
            races += 1
            if races >= _MAX_RACES:
                raise RateLimiterUnavailable(f"rate bucket {self.key}: {races} lost races in a row")

    def _item_key(self) -> dict[str, Any]:
        return {"pk": {"S": self.key}, "sk": {"S": RATE_SORT_KEY}}

    def _read(self) -> tuple[float, float, int | None]:
        try:
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key=self._item_key(), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise RateLimiterUnavailable(f"rate bucket {self.key}: cannot read: {error}") from error
        item = answer.get("Item")
        if not item:
            return 0.0, 0.0, None
        return float(item["level"]["N"]), float(item["updated_at"]["N"]), int(item["version"]["N"])

    def _write(self, level: float, updated_at: float, version: int | None) -> bool:
        """Store the new state unless someone changed it since we read `version`."""
        item = {
            **self._item_key(),
            "level": {"N": _number(level)},
            "updated_at": {"N": _number(updated_at)},
            "version": {"N": str((version or 0) + 1)},
        }
        condition: dict[str, Any]
        if version is None:
            condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :seen",
                "ExpressionAttributeValues": {":seen": {"N": str(version)}},
            }
        try:
            self._dynamodb.put_item(TableName=self.table_name, Item=item, **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise RateLimiterUnavailable(f"rate bucket {self.key}: cannot write: {error}") from error
        except BotoCoreError as error:
            raise RateLimiterUnavailable(f"rate bucket {self.key}: cannot write: {error}") from error
        return True


def _number(value: float) -> str:
    return str(Decimal(repr(value)).quantize(Decimal("0.000001")))


def limiter_from_settings(
    rate: RateLimit | None = None,
    *,
    table_name: str | None = None,
    dynamodb_client: DynamoDBClient | None = None,
) -> SharedBucket:
    """The shared bucket configured by `BRIDGE_*` settings (plan limits, table, local endpoint)."""
    from bridge.settings import runtime_settings

    settings = runtime_settings()
    rate = rate or settings.b24_rate_limit
    if dynamodb_client is None:
        from bridge import aws

        dynamodb_client = aws.dynamodb_client(settings.aws_endpoint_url)
    return SharedBucket(
        table_name or settings.table_name,
        dynamodb_client,
        burst=rate.burst,
        per_second=rate.per_second,
        margin=SAFETY_MARGIN,
    )
