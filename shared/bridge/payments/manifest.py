"""Change detection values (architecture §4), pure.

A payment's manifest value keeps what the cheap listing shows (DataVersion, Posted, DeletionMark)
and the orders its breakdown pointed at last time, so a deleted payment still tells which orders
to recompute. An order's value is its DataVersion, or, while no deal is linked to it, a marker with
the moment it was first seen (the link may arrive a moment after the order; it is re-checked for a
while).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from bridge.domain.onec_sets import BANK_RECEIPTS, CARD_OPERATIONS, CASH_RECEIPTS

PAYMENTS_MANIFEST = {
    BANK_RECEIPTS: "payments-bank",
    CASH_RECEIPTS: "payments-cash",
    CARD_OPERATIONS: "payments-card",
}
ORDERS_MANIFEST = "payments-orders"
# Linked orders dated before the window and still open: ref → DataVersion, plus a marker entry
# once the orders that were already old on the first run have been looked through.
OPEN_ORDERS_MANIFEST = "payments-open-orders"
OPEN_ORDERS_SEEDED = "seeded"
_SEP = "|"
_UNLINKED = "u"


class DocVersion(NamedTuple):
    """What the cheap listing shows of a payment document."""

    data_version: str
    posted: bool
    deletion_mark: bool

    def signature(self) -> str:
        return f"{self.data_version}{_SEP}{int(self.posted)}{_SEP}{int(self.deletion_mark)}"


@dataclass(frozen=True, slots=True)
class PaymentEntry:
    version: DocVersion
    orders: tuple[str, ...]

    def encode(self) -> str:
        return f"{self.version.signature()}{_SEP}{','.join(sorted(self.orders))}"

    @classmethod
    def decode(cls, value: str) -> PaymentEntry:
        data_version, posted, marked, orders = value.split(_SEP, 3)
        return cls(
            DocVersion(data_version, posted == "1", marked == "1"),
            tuple(o for o in orders.split(",") if o),
        )


@dataclass(frozen=True, slots=True)
class OrderEntry:
    data_version: str
    unlinked_since: int | None = None  # epoch seconds; None = linked when last seen

    def encode(self) -> str:
        if self.unlinked_since is None:
            return self.data_version
        return f"{_UNLINKED}{_SEP}{self.data_version}{_SEP}{self.unlinked_since}"

    @classmethod
    def decode(cls, value: str) -> OrderEntry:
        if value.startswith(_UNLINKED + _SEP):
            _, data_version, since = value.split(_SEP, 2)
            return cls(data_version, int(since))
        return cls(value)


@dataclass(frozen=True, slots=True)
class PaymentDiff:
    changed: tuple[str, ...]  # new or different since last seen
    vanished: tuple[str, ...]  # remembered but not listed now: deleted, or dated out of the window


def diff_payments(current: Mapping[str, DocVersion], stored: Mapping[str, str]) -> PaymentDiff:
    changed = [
        ref
        for ref, version in current.items()
        if ref not in stored or PaymentEntry.decode(stored[ref]).version != version
    ]
    vanished = [ref for ref in stored if ref not in current]
    return PaymentDiff(tuple(changed), tuple(vanished))


def orders_to_check(
    current: Mapping[str, str], stored: Mapping[str, str], now: int, recheck_s: int
) -> tuple[str, ...]:
    """Orders whose DataVersion changed, new ones, and unlinked ones still within the re-check period."""
    due: list[str] = []
    for ref, data_version in current.items():
        if ref not in stored:
            due.append(ref)
            continue
        entry = OrderEntry.decode(stored[ref])
        still_fresh = entry.unlinked_since is not None and now - entry.unlinked_since < recheck_s
        if entry.data_version != data_version or still_fresh:
            due.append(ref)
    return tuple(due)


def gone(current: Iterable[str], stored: Mapping[str, str]) -> tuple[str, ...]:
    listed = set(current)
    return tuple(ref for ref in stored if ref not in listed)
