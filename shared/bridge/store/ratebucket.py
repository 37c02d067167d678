"""The Bitrix24 rate bucket every Lambda of the stack shares: one SyncTable item (`RATE#b24`/`STATE`).

A bucket kept in process memory is wrong for Lambda: N concurrent invocations would each believe
they own the whole budget, so this one lives in the table every invocation updates:

- State is `(level, updated_at, version)`; the level drains with time, so a reader computes the
  current level itself. DynamoDB cannot compute `level - elapsed * rate` inside an UpdateExpression,
  hence optimistic concurrency: read (consistent) → compute → put conditioned on the version read.
  A lost race (a failed condition) means someone else took a slot: re-read and try again. No
  lock is ever held, so a Lambda that dies mid-call cannot block the others.
- When the bucket is full the caller sleeps exactly until one slot has drained, then retries.
- `updated_at` never moves backwards, so a Lambda with a slow clock cannot make the bucket look
  emptier than it is to the others.

Costs two DynamoDB requests per Bitrix24 request, i.e. far below Bitrix24's own 2 req/s. The
Bitrix24 client gets it injected as its `RateLimiter`.
"""

from __future__ import annotations

from decimal import Decimal

from bridge.b24.ratelimit import BucketShape, check_cost
from bridge.errors import TransientError
from bridge.store.errors import StoreBusy, StoreError
from bridge.store.items import Attributes
from bridge.store.table import Condition, Table

RATE_KEY = "RATE#b24"
RATE_SORT_KEY = "STATE"
_MAX_RACES = 50  # consecutive lost races before we call the table unusable


class RateLimiterUnavailable(TransientError):
    """The shared bucket's table cannot be read or written."""


class _LostRace(TransientError):
    pass


class SharedBucket(BucketShape):
    """One bucket for every Lambda of the stack, in a SyncTable item."""

    def __init__(
        self, table: Table, key: str = RATE_KEY, burst: int = 50, per_second: float = 2.0, margin: float = 0.0
    ) -> None:
        super().__init__(burst, per_second, margin)
        self.table_name = table.name
        self.key = key
        self._table = table

    def __repr__(self) -> str:
        return f"SharedBucket(table={self.table_name!r}, key={self.key!r}, {self.burst}/{self.per_second}/s)"

    def acquire(self, cost: int = 1) -> None:
        check_cost(cost, self.capacity)
        races = 0
        while True:
            level, updated_at, version = self._read()
            now = self._table.clock()
            level, wait = self.admit(level, updated_at, now, cost)
            if wait:
                self._table.sleep(wait)
                continue
            if self._write(level, max(now, updated_at), version):
                return
            races += 1
            if races >= _MAX_RACES:
                raise RateLimiterUnavailable(f"rate bucket {self.key}: {races} lost races in a row")

    def _read(self) -> tuple[float, float, int | None]:
        try:
            item = self._table.get(self.key, RATE_SORT_KEY)
        except (StoreBusy, StoreError) as error:
            raise RateLimiterUnavailable(f"rate bucket {self.key}: cannot read: {error}") from error
        if not item:
            return 0.0, 0.0, None
        return float(item["level"]["N"]), float(item["updated_at"]["N"]), int(item["version"]["N"])

    def _write(self, level: float, updated_at: float, version: int | None) -> bool:
        """Store the new state unless someone changed it since we read `version`."""
        item: Attributes = {
            "pk": {"S": self.key},
            "sk": {"S": RATE_SORT_KEY},
            "level": {"N": _number(level)},
            "updated_at": {"N": _number(updated_at)},
            "version": {"N": str((version or 0) + 1)},
        }
        if version is None:
            when = Condition("attribute_not_exists(pk)")
        else:
            when = Condition("version = :seen", {":seen": {"N": str(version)}})
        try:
            self._table.put(item, when, conflict=_LostRace)
        except _LostRace:
            return False
        except (StoreBusy, StoreError) as error:
            raise RateLimiterUnavailable(f"rate bucket {self.key}: cannot write: {error}") from error
        return True


def _number(value: float) -> str:
    return str(Decimal(repr(value)).quantize(Decimal("0.000001")))
