"""Three-way merge of one object's state: last synced base, 1C now, Bitrix24 now.

Per field: a side that changed it since the base wins; both changed to different values → the
field's owner wins and the loser is reported; an empty value is never a change (§2.2.12.11).
Without a base (first sync of a matched pair) every non-empty value counts as a change.

A field 1C keeps shorter (`limits`: Description 100, Должность 50) compares in 1C's length: 1C's
cut copy of a longer Bitrix24 text is the same value, so it is never a change and never written
back over the full text (§2.2.12.11 "data is never lost").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bridge.config.parties import Side
from bridge.parties.state import State, Value, fit, is_empty


@dataclass(frozen=True)
class Conflict:
    field: str
    winner: Side
    kept: Value
    lost: Value


@dataclass(frozen=True)
class MergeResult:
    merged: State
    to_onec: State  # fields to write to 1C
    to_b24: State  # fields to write to Bitrix24
    conflicts: tuple[Conflict, ...] = field(default=())


@dataclass(frozen=True)
class Sameness:
    """When one side's value stands for the merged value without being equal to it.

    `limits`: 1C keeps a cut copy (Description 100, Должность 50) of a longer Bitrix24 text.
    `wider`: field → merged value → the Bitrix24 values that stand for it, where Bitrix24 cannot
    hold the value (one COMPANY_TYPE for a counterparty that is buyer *and* supplier).
    """

    limits: Mapping[str, int] = field(default_factory=dict)
    wider: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def onec(self, name: str, value: Value, merged: Value) -> bool:
        limit = self.limits.get(name)
        return value == (fit(merged, limit) if limit else merged)

    def b24(self, name: str, value: Value, merged: Value) -> bool:
        if value == merged:
            return True
        return isinstance(merged, str) and value in self.wider.get(name, {}).get(merged, ())


def merge(
    base: Mapping[str, Value],
    onec: Mapping[str, Value],
    b24: Mapping[str, Value],
    owner_of: Callable[[str], Side],
    fields: tuple[str, ...],
    same: Sameness | None = None,
) -> MergeResult:
    same = same or Sameness()
    merged: State = {}
    to_onec: State = {}
    to_b24: State = {}
    conflicts: list[Conflict] = []
    for name in fields:
        old = base.get(name, "")
        left = onec.get(name, "")
        right = b24.get(name, "")
        left_changed = not is_empty(left) and not same.onec(name, left, old)
        right_changed = not is_empty(right) and not same.b24(name, right, old)
        if left_changed and right_changed and same.onec(name, left, right):
            value = right  # 1C holds the cut copy of the same text: the full one is the value
        elif left_changed and right_changed and same.b24(name, right, left):
            value = left  # Bitrix24 shows what it can of 1C's wider value
        elif left_changed and right_changed and left != right:
            winner = owner_of(name)
            value, lost = (left, right) if winner == "1c" else (right, left)
            conflicts.append(Conflict(name, winner, value, lost))
        elif left_changed:
            value = left
        elif right_changed:
            value = right
        else:
            value = old
        merged[name] = value
        if is_empty(value):
            continue
        # A side that emptied a field keeps it empty until the value changes again.
        news = value != old or is_empty(old)
        if not same.onec(name, left, value) and news:
            to_onec[name] = value
        if not same.b24(name, right, value) and news:
            to_b24[name] = value
    return MergeResult(merged, to_onec, to_b24, tuple(conflicts))
