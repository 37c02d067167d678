"""Per-order lease in SyncTable (pk `PAYORDER#<order ref>`, sk `STATE`), holding the order's state.

The payments poller and push path may recompute the same order at once; the lease (a conditional
update) lets one of them through, so a payment is announced once. The item also keeps the state
the holder last saved (JSON text, whose shape the payments flow owns). A crash while holding the
lease only delays the order until the lease expires.

    with store.leases.hold(order_ref, lease_seconds) as lease:
        ... lease.state ...      # what the previous holder saved (None at first)
        lease.save(new_state)   # written when the block ends normally, with the release
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from bridge.errors import BridgeError, TransientError
from bridge.store.table import Condition, Table, text

_PREFIX = "PAYORDER#"
_SK = "STATE"


class OrderBusy(TransientError):
    """Another run holds the order's lease; the next run (or a retry) picks the order up."""


class Lease:
    """A held lease: the stored state, and the state to save on release."""

    def __init__(self, order_ref: str, owner: str, state: str | None) -> None:
        self.order_ref = order_ref
        self.owner = owner
        self.state = state
        self.saved: str | None = None

    def save(self, state: str) -> None:
        self.saved = state


class OrderLeases:
    def __init__(self, table: Table) -> None:
        self._table = table

    @contextlib.contextmanager
    def hold(self, order_ref: str, lease_seconds: int) -> Iterator[Lease]:
        """Take the lease (`OrderBusy` if someone holds it) for the `with` block; always give it back."""
        lease = self._acquire(order_ref, lease_seconds)
        try:
            yield lease
            self._release(lease, lease.saved)
        except BaseException:
            with contextlib.suppress(BridgeError):
                self._release(lease, None)
            raise

    def peek(self, order_ref: str) -> str | None:
        """The stored state without taking the lease (tests, the demo)."""
        item = self._table.get(_PREFIX + order_ref, _SK)
        return item.get("state", {}).get("S") if item else None

    def _acquire(self, order_ref: str, lease_seconds: int) -> Lease:
        owner = uuid.uuid4().hex
        now = int(self._table.clock())
        stored = self._table.update(
            _PREFIX + order_ref,
            _SK,
            "SET lease_until = :until, lease_owner = :owner",
            Condition(
                "attribute_not_exists(lease_until) OR lease_until < :now",
                {":until": {"N": str(now + lease_seconds)}, ":owner": text(owner), ":now": {"N": str(now)}},
            ),
            conflict=lambda: OrderBusy(f"order {order_ref} is being synced by another run"),
        )
        return Lease(order_ref, owner, stored.get("state", {}).get("S"))

    def _release(self, lease: Lease, state: str | None) -> None:
        """Give the lease back, saving `state` when given (only the holder may)."""
        update = "REMOVE lease_until, lease_owner"
        values: dict[str, Any] = {":owner": text(lease.owner)}
        names: dict[str, str] = {}
        if state is not None:
            update = "SET #state = :state " + update
            values[":state"] = text(state)
            names["#state"] = "state"
        self._table.update(
            _PREFIX + lease.order_ref,
            _SK,
            update,
            Condition("lease_owner = :owner", values, names),
            # The lease expired and someone else took it: their state wins, ours is dropped.
            conflict=lambda: OrderBusy(f"lease on order {lease.order_ref} was lost"),
        )
