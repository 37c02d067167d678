"""Per-order sync state in SyncTable (pk `PAYORDER#<order ref>`, sk `STATE`), behind a lease.

The poller and the push path may recompute the same order at once; the lease (a conditional
update) lets one of them through, so a payment is announced once. The state records what was
last written: the fields' fingerprint, the payments the manager was told about, the payments
registered, and the order state last acted upon. A crash while holding the lease only delays the
order until the lease expires.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import TransientError
from bridge.payments.models import AnnouncedPayment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_SK = "STATE"


class OrderBusy(TransientError):
    """Another run holds the order's lease; the next run (or a retry) picks the order up."""


@dataclass(frozen=True)
class OrderSyncState:
    fields_fingerprint: str | None = None
    announced: dict[str, AnnouncedPayment] = field(default_factory=dict)
    registered: frozenset[str] = frozenset()
    last_state: str | None = None
    # Registry list elements as last written, by payment ref (their FIELDS: an update replaces all).
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Receipts with a row for the order that do not count, with the reason already audited.
    skipped: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "fields_fingerprint": self.fields_fingerprint,
                "announced": [a.to_json() for a in self.announced.values()],
                "registered": sorted(self.registered),
                "last_state": self.last_state,
                "listed": self.listed,
                "skipped": self.skipped,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | None) -> OrderSyncState:
        if not text:
            return cls()
        data: dict[str, Any] = json.loads(text)
        announced = [AnnouncedPayment.from_json(a) for a in data.get("announced", [])]
        return cls(
            fields_fingerprint=data.get("fields_fingerprint"),
            announced={a.ref: a for a in announced},
            registered=frozenset(data.get("registered", [])),
            last_state=data.get("last_state"),
            listed=dict(data.get("listed") or {}),
            skipped=dict(data.get("skipped") or {}),
        )

    def evolve(self, **changes: Any) -> OrderSyncState:
        return replace(self, **changes)


@dataclass(frozen=True)
class Lease:
    order_ref: str
    owner: str
    state: OrderSyncState


def _key(order_ref: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYORDER#{order_ref}"}, "sk": {"S": _SK}}


def _conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class OrderStateStore:
    def __init__(
        self, table_name: str, dynamodb: DynamoDBClient, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = table_name
        self._db = dynamodb
        self._clock = clock

    def acquire(self, order_ref: str, lease_seconds: int) -> Lease:
        owner = uuid.uuid4().hex
        now = int(self._clock())
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=_key(order_ref),
                UpdateExpression="SET lease_until = :until, lease_owner = :owner",
                ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now",
                ExpressionAttributeValues={
                    ":until": {"N": str(now + lease_seconds)},
                    ":owner": {"S": owner},
                    ":now": {"N": str(now)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _conditional_failure(error):
                raise OrderBusy(f"order {order_ref} is being synced by another run") from None
            raise TransientError(f"could not lease order {order_ref}: {error}") from error
        except BotoCoreError as error:
            raise TransientError(f"could not lease order {order_ref}: {error}") from error
        stored = answer.get("Attributes", {}).get("state", {}).get("S")
        return Lease(order_ref, owner, OrderSyncState.from_json(stored))

    def release(self, lease: Lease, state: OrderSyncState | None = None) -> None:
        """Give the lease back, saving `state` when given (only the holder may)."""
        update = "REMOVE lease_until, lease_owner"
        values: dict[str, Any] = {":owner": {"S": lease.owner}}
        if state is not None:
            update = "SET #state = :state " + update
            values[":state"] = {"S": state.to_json()}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(lease.order_ref),
            "UpdateExpression": update,
            "ConditionExpression": "lease_owner = :owner",
            "ExpressionAttributeValues": values,
        }
        if state is not None:
            request["ExpressionAttributeNames"] = {"#state": "state"}
        try:
            self._db.update_item(**request)
        except ClientError as error:
            if _conditional_failure(error):
                # The lease expired and someone else took it: their state wins, ours is dropped.
                raise OrderBusy(f"lease on order {lease.order_ref} was lost") from None
            raise TransientError(f"could not save order {lease.order_ref}: {error}") from error
        except BotoCoreError as error:
            raise TransientError(f"could not save order {lease.order_ref}: {error}") from error

    def peek(self, order_ref: str) -> OrderSyncState:
        """The stored state without taking the lease (tests, the demo)."""
        item = self._db.get_item(TableName=self._table, Key=_key(order_ref), ConsistentRead=True).get("Item")
        return OrderSyncState.from_json(item.get("state", {}).get("S") if item else None)
