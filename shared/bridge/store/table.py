"""The one low-level SyncTable adapter: typed get/put/update/delete/query/transact/batch.

Every store in `bridge.store` talks to DynamoDB through a `Table`, so there is one place where
`ClientError`s become domain errors (`bridge.store.errors.translate`), one TTL rule for reads and
one retry policy for transactions and batches. Reads are strongly consistent because a flow reads
an item right before deciding whether to create something.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import BridgeError
from bridge.store.errors import StoreBusy, translate
from bridge.store.items import Attributes, is_expired, key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, WriteRequestTypeDef

type Conflict = Callable[[], BridgeError]

_BATCH_LIMIT = 25
_BATCH_RETRIES = 6
_TRANSACTION_ATTEMPTS = 3


def text(value: str) -> dict[str, str]:
    """A DynamoDB string attribute value."""
    return {"S": value}


@dataclass(frozen=True)
class Condition:
    """A write's condition, with the placeholders its expressions use (`:value`, `#name`)."""

    expression: str
    values: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)


class Table:
    """SyncTable through a boto3 DynamoDB client (real AWS, moto server, or DynamoDB Local)."""

    def __init__(
        self,
        name: str,
        client: DynamoDBClient,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.client = client
        self.clock = clock
        self.sleep = sleep

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def call[T](self, operation: Callable[[], T], *, conflict: Conflict | None = None) -> T:
        """Run one DynamoDB call; a failed condition becomes `conflict()`, anything else a store error."""
        try:
            return operation()
        except (ClientError, BotoCoreError) as error:
            raise translate(error, conflict) from error

    def get(self, pk: str, sk: str) -> Attributes | None:
        """The item, or None when absent or past its TTL (DynamoDB deletes expired items days late)."""
        response = self.call(
            lambda: self.client.get_item(TableName=self.name, Key=key(pk, sk), ConsistentRead=True)
        )
        return self._live(response.get("Item"))

    def put(
        self,
        item: Attributes,
        when: Condition | None = None,
        *,
        conflict: Conflict | None = None,
        old: bool = False,
    ) -> Attributes:
        """Write `item` (if `when` holds); returns the item it replaced when `old`."""
        request: dict[str, Any] = {"TableName": self.name, "Item": item, **_request(when)}
        if old:
            request["ReturnValues"] = "ALL_OLD"
        answer = self.call(lambda: self.client.put_item(**request), conflict=conflict)
        return dict(answer.get("Attributes", {}))

    def update(
        self, pk: str, sk: str, expression: str, when: Condition, *, conflict: Conflict | None = None
    ) -> Attributes:
        """Apply `expression` to one item if `when` holds (`when.values` serve both); returns it updated."""
        request = self.update_request(pk, sk, expression, when)
        answer = self.call(
            lambda: self.client.update_item(**request, ReturnValues="ALL_NEW"), conflict=conflict
        )
        return dict(answer.get("Attributes", {}))

    def update_request(self, pk: str, sk: str, expression: str, when: Condition) -> dict[str, Any]:
        """The parameters of `update`, also an `Update` entry of a `transact`."""
        return {"TableName": self.name, "Key": key(pk, sk), "UpdateExpression": expression, **_request(when)}

    def delete(self, pk: str, sk: str, when: Condition, *, conflict: Conflict | None = None) -> None:
        request = {"TableName": self.name, "Key": key(pk, sk), **_request(when)}
        self.call(lambda: self.client.delete_item(**request), conflict=conflict)

    def query(self, pk: str) -> Iterator[Attributes]:
        """Every live item of partition `pk`, in sort-key order, page by page."""
        request = self._partition(pk)
        while True:
            page = self.call(lambda: self.client.query(**request))
            for attributes in page.get("Items", []):
                if (live := self._live(attributes)) is not None:
                    yield live
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def any_item(self, pk: str) -> bool:
        """Whether partition `pk` holds an item (one read of one item; for partitions without a TTL)."""
        request = self._partition(pk) | {"Limit": 1}
        return bool(self.call(lambda: self.client.query(**request)).get("Items"))

    def _partition(self, pk: str) -> dict[str, Any]:
        """A strongly consistent Query of one partition."""
        return {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": text(pk)},
            "ConsistentRead": True,
        }

    def transact(self, items: list[TransactWriteItemTypeDef], *, conflict: Conflict) -> None:
        """All of `items` or none; a failed condition on any of them becomes `conflict()`."""
        # A competing transaction on the same items is cancelled with TransactionConflict; one
        # more try then meets the winner's items and turns into a clean conflict or a no-op.
        for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
            try:
                self.call(lambda: self.client.transact_write_items(TransactItems=items), conflict=conflict)
            except StoreBusy:
                if attempt == _TRANSACTION_ATTEMPTS:
                    raise
                self.sleep(0.05 * attempt)
            else:
                return

    def batch_write(self, requests: list[WriteRequestTypeDef]) -> None:
        """Puts and deletes, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed."""
        for start in range(0, len(requests), _BATCH_LIMIT):
            self._batch(requests[start : start + _BATCH_LIMIT])

    def _batch(self, requests: list[WriteRequestTypeDef]) -> None:
        pending = requests
        for attempt in range(_BATCH_RETRIES):
            response = self.call(partial(self.client.batch_write_item, RequestItems={self.name: pending}))
            # DynamoDB hands back unprocessed requests in the shape they were sent.
            pending = cast(
                "list[WriteRequestTypeDef]", response.get("UnprocessedItems", {}).get(self.name, [])
            )
            if not pending:
                return
            self.sleep(min(0.05 * 2**attempt, 2.0))
        raise StoreBusy(f"DynamoDB left {len(pending)} batch writes unprocessed")

    def _live(self, attributes: Mapping[str, Any] | None) -> Attributes | None:
        if attributes is None or is_expired(attributes, self.clock()):
            return None
        return dict(attributes)


def _request(when: Condition | None) -> Attributes:
    if when is None:
        return {}
    request: Attributes = {"ConditionExpression": when.expression}
    if when.values:
        request["ExpressionAttributeValues"] = dict(when.values)
    if when.names:
        request["ExpressionAttributeNames"] = dict(when.names)
    return request
