"""What a process publishes of its operating-time view for `status`: rarely (one write per
interval), at once when a method passes 50 % / 90 % or is blocked, and never at the cost of a call."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bridge.b24.models import CallTime
from bridge.b24.operating import MethodOperating, OperatingBudget

NOW = 1_764_700_000.0


class Sink:
    def __init__(self, fail: bool = False) -> None:
        self.writes: list[list[MethodOperating]] = []
        self.fail = fail

    def publish(self, methods: Sequence[MethodOperating]) -> None:
        if self.fail:
            raise OSError("table unreachable")
        self.writes.append(list(methods))


def seen(budget: OperatingBudget, method: str, operating: float, at: float) -> None:
    budget.record(method, CallTime(operating=operating, operating_reset_at=at + 600), at)


def test_a_busy_process_writes_once_per_interval_not_once_per_call() -> None:
    budget, sink = OperatingBudget(480.0), Sink()
    budget.publish_to(sink, every_s=45.0)
    for second in range(60):  # a call a second, all far below half the budget
        seen(budget, "crm.deal.get", 0.5 * (second + 1), NOW + second)
    assert len(sink.writes) == 2  # the first observation, then one 45 s later
    last = sink.writes[-1][0]
    assert (last.method, last.used_s, last.budget_s) == ("crm.deal.get", 23.0, 480.0)
    assert last.headroom_s == 457.0


def test_passing_half_and_ninety_percent_is_written_at_once() -> None:
    budget, sink = OperatingBudget(480.0), Sink()
    budget.publish_to(sink, every_s=45.0)
    seen(budget, "catalog.product.add", 100.0, NOW)
    seen(budget, "catalog.product.add", 200.0, NOW + 1)  # still below half: waits for the interval
    seen(budget, "catalog.product.add", 250.0, NOW + 2)  # 52 %
    seen(budget, "catalog.product.add", 440.0, NOW + 3)  # 92 %
    assert [round(w[0].share, 2) for w in sink.writes] == [0.21, 0.52, 0.92]


def test_a_429_is_written_at_once_as_blocked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    budget, sink = OperatingBudget(480.0), Sink()
    budget.publish_to(sink, every_s=45.0)
    seen(budget, "crm.deal.get", 10.0, NOW)
    budget.exhausted("crm.deal.get", NOW + 300, NOW + 1)
    blocked = sink.writes[-1][0]
    assert blocked.blocked_until == NOW + 300
    assert blocked.blocked(NOW + 299)
    assert not blocked.blocked(NOW + 301)
    assert blocked.band == 3
    assert "Bitrix24 blocked crm.deal.get for operating time" in caplog.text


def test_a_failing_sink_never_fails_the_observation() -> None:
    budget = OperatingBudget(480.0)
    budget.publish_to(Sink(fail=True))
    seen(budget, "crm.deal.get", 300.0, NOW)  # would raise if the failure escaped
    assert budget.used("crm.deal.get", NOW) == 300.0


def test_without_a_sink_nothing_is_kept_for_publishing() -> None:
    budget = OperatingBudget(480.0)
    seen(budget, "crm.deal.get", 300.0, NOW)
    assert budget.used("crm.deal.get", NOW) == 300.0
