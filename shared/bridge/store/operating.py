"""The Bitrix24 operating-time snapshot `status` reads (pk `RATE#b24-operating`, sk `STATE`).

Each Lambda paces on its own view of the portal's per-method ledger (`bridge.b24.operating`) and
publishes it here now and then: one attribute per method, so a process writes only the methods it
saw and leaves the others' figures alone. The portal reports the same figure to every caller, so
the latest observation of a method is the truth; `seen_at` says how old it is. The key shares the
rate bucket's `RATE#` prefix: every function that calls Bitrix24 may already write it (IAM).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bridge.b24.operating import MethodOperating
from bridge.store.items import Attributes
from bridge.store.table import Table

OPERATING_KEY = "RATE#b24-operating"
OPERATING_SORT_KEY = "STATE"
_PREFIX = "op:"  # attribute name of a method's figures: `op:crm.deal.get`


class OperatingSnapshots:
    def __init__(self, table: Table) -> None:
        self._table = table

    def publish(self, methods: Sequence[MethodOperating]) -> None:
        """Store these methods' figures (one UpdateItem; other methods' attributes stay)."""
        if not methods:
            return
        names = {f"#m{i}": _PREFIX + m.method.lower() for i, m in enumerate(methods)}
        values: dict[str, Any] = {f":m{i}": {"M": _figures(m)} for i, m in enumerate(methods)}
        values[":at"] = {"N": _number(self._table.clock())}
        expression = "SET " + ", ".join(
            [f"#m{i} = :m{i}" for i in range(len(methods))] + ["updated_at = :at"]
        )
        self._table.call(
            lambda: self._table.client.update_item(
                TableName=self._table.name,
                Key={"pk": {"S": OPERATING_KEY}, "sk": {"S": OPERATING_SORT_KEY}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        )

    def read(self) -> list[MethodOperating]:
        """Every method's last published figures, the nearest to its budget first."""
        item = self._table.get(OPERATING_KEY, OPERATING_SORT_KEY)
        found = [
            _parse(name.removeprefix(_PREFIX), value["M"])
            for name, value in (item or {}).items()
            if name.startswith(_PREFIX) and "M" in value
        ]
        return sorted(found, key=lambda m: (-m.band, -m.share, m.method))


def _figures(method: MethodOperating) -> Attributes:
    figures: Attributes = {
        "used": {"N": _number(method.used_s)},
        "budget": {"N": _number(method.budget_s)},
        "seen_at": {"N": _number(method.seen_at)},
    }
    if method.reset_at is not None:
        figures["reset_at"] = {"N": _number(method.reset_at)}
    if method.blocked_until is not None:
        figures["blocked_until"] = {"N": _number(method.blocked_until)}
    return figures


def _parse(method: str, figures: Attributes) -> MethodOperating:
    def number(name: str) -> float | None:
        value = figures.get(name)
        return float(value["N"]) if value and "N" in value else None

    return MethodOperating(
        method,
        number("used") or 0.0,
        number("budget") or 0.0,
        number("reset_at"),
        number("seen_at") or 0.0,
        number("blocked_until"),
    )


def _number(value: float) -> str:
    return str(Decimal(repr(value)).quantize(Decimal("0.001")))
