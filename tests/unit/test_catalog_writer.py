"""Packing units into batches of ≤ 50 commands, recording after each batch, stopping on time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from bridge.b24.client import B24Client
from bridge.b24.errors import B24Error, ValidationFailed
from bridge.b24.models import BatchResult, Command
from bridge.catalog.writer import Unit, run_units


class FakeB24:
    def __init__(self, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.batches: list[list[str]] = []
        self.failing = failing

    def batch(self, commands: Mapping[str, Command]) -> BatchResult:
        self.batches.append(list(commands))
        result = {k: {"ok": True} for k in commands if k not in self.failing}
        errors: dict[str, B24Error] = {
            k: ValidationFailed("", "bad", 400, "x") for k in commands if k in self.failing
        }
        return BatchResult(result=result, errors=errors)


def unit(key: str, size: int, seen: list[str]) -> Unit:
    commands = tuple((f"{key}.{i}", Command("catalog.product.update", {"id": 1})) for i in range(size))

    def done(results: Mapping[str, Any], errors: Mapping[str, B24Error]) -> bool:
        seen.append(key)
        return not errors

    return Unit(commands, done)


def test_units_are_packed_into_batches_of_at_most_50_commands_and_never_split() -> None:
    fake, flushed = FakeB24(), []
    seen: list[str] = []
    units = [unit(f"u{i}", 2, seen) for i in range(30)] + [unit("big", 48, seen)]

    outcome = run_units(cast(B24Client, fake), units, after_batch=lambda: flushed.append(len(seen)))

    assert [len(b) for b in fake.batches] == [50, 10, 48]
    assert outcome.ok == 31
    assert outcome.failed == 0
    assert flushed == [25, 30, 31]  # recorded after every batch, in order


def test_a_failed_command_fails_only_its_unit() -> None:
    fake = FakeB24(failing={"u1.0"})
    seen: list[str] = []

    outcome = run_units(
        cast(B24Client, fake), [unit(f"u{i}", 1, seen) for i in range(3)], after_batch=lambda: None
    )

    assert (outcome.ok, outcome.failed) == (2, 1)


def test_the_deadline_stops_between_batches_and_says_so() -> None:
    fake = FakeB24()
    seen: list[str] = []

    outcome = run_units(
        cast(B24Client, fake),
        [unit(f"u{i}", 25, seen) for i in range(6)],
        after_batch=lambda: None,
        should_stop=lambda: True,
    )

    assert len(fake.batches) == 1
    assert outcome.stopped
    assert outcome.ok == 2


class SlowFirstB24(FakeB24):
    """Answers the first batch last: overlapping batches finish out of order."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.first_may_answer = threading.Event()
        self.concurrent = 0
        self.most_concurrent = 0
        self._lock = threading.Lock()

    def batch(self, commands: Mapping[str, Command]) -> BatchResult:
        with self._lock:
            first = not self.batches
            self.concurrent += 1
            self.most_concurrent = max(self.most_concurrent, self.concurrent)
            answer = super().batch(commands)
        if first:
            self.first_may_answer.wait(5)
        else:
            self.first_may_answer.set()
        with self._lock:
            self.concurrent -= 1
        return answer


def test_batches_in_flight_overlap_but_are_recorded_in_the_order_sent() -> None:
    fake, flushed = SlowFirstB24(), []
    seen: list[str] = []
    units = [unit(f"u{i}", 25, seen) for i in range(8)]  # two units per batch, four batches

    outcome = run_units(
        cast(B24Client, fake), units, after_batch=lambda: flushed.append(list(seen)), in_flight=3
    )

    assert outcome.ok == 8
    assert fake.most_concurrent >= 2  # the second batch went out before the first answered
    assert flushed == [[f"u{i}" for i in range(n)] for n in (2, 4, 6, 8)]
