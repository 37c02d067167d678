"""`status` shows the Bitrix24 operating-time headroom the Lambdas saw (issue 13, "See"): calls
whose answers report `time.operating` go through the emulator's operating model on the local
stack, the bridge publishes its view to SyncTable, and `python -m bridge.cli status` — run as an
operator runs it — prints the busiest method's headroom, a line per method past half its budget,
and a method Bitrix24 blocked as a problem."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.local import LocalStack
from tests.harness.deal_stack import fresh_synced_deal, start_stack
from tests.harness.operator import operator
from tests.harness.waiting import eventually

pytestmark = pytest.mark.acceptance

COST_S = 250.0  # one call: 52 % of the 480 s budget; two: past it


@pytest.fixture
def stack(moto_endpoint: str) -> Iterator[LocalStack]:
    # A stack per test: a warm worker keeps the portal's operating ledger it learned in memory (as a
    # Lambda container does for up to 10 minutes), so a spent method would hold back the next test.
    yield from start_stack(moto_endpoint)


def _limits(stack: LocalStack, **body: Any) -> None:
    assert stack.b24 is not None
    httpx.post(f"{stack.b24.url}/_sandbox/rate-limit", json=body).raise_for_status()


@pytest.fixture
def costly(stack: LocalStack) -> Iterator[Any]:
    """Switch the portal's operating-time limit on with one expensive method (cleared after)."""

    def switch(method: str) -> None:
        _limits(stack, operating_enabled=True, method_costs={method: COST_S}, reset_operating=True)

    yield switch
    _limits(stack, operating_enabled=False, method_costs={}, reset_operating=True)


def _status_json(stack: LocalStack) -> dict[str, Any]:
    done = operator(stack, "status", "--json")
    assert done.returncode in (0, 1), done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_status_shows_the_headroom_of_the_method_a_flow_spent(stack: LocalStack, costly: Any) -> None:
    rest, deal_id, _ = fresh_synced_deal(stack)
    costly("crm.deal.productrows.get")

    # A manager edits the deal: the queue worker reads its rows, at 250 s of server time a call.
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "срочно"}})

    def published() -> dict[str, Any] | None:
        worst = _status_json(stack)["operating"]["worst"]
        return worst if worst and worst["method"] == "crm.deal.productrows.get" else None

    worst = eventually(published, 120, "the worker's operating-time snapshot")
    # The edit's read, and the read of our own write-back's echo when the order changed: one or two
    # whole calls, depending on when the snapshot is looked at. Each figure must agree with `used`.
    used = worst["used_s"]
    assert round(used / COST_S) >= 1
    assert used == pytest.approx(COST_S * round(used / COST_S), abs=1.0)  # whole calls of 250 s
    assert worst["budget_s"] == 480.0
    assert worst["headroom_s"] == pytest.approx(max(0.0, 480.0 - used), abs=0.01)
    assert worst["blocked"] is False

    done = operator(stack, "status")
    lines = done.stdout.splitlines()
    headline = next(line for line in lines if line.startswith("Bitrix24 operating time:"))
    near = next(line.strip() for line in lines if line.strip().startswith("crm.deal.productrows.get:"))
    shown = re.match(r"crm\.deal\.productrows\.get: (\d+) of 480 s used \((\d+)%\)", near)
    assert shown is not None, near
    used_now = float(shown.group(1))
    assert used_now == pytest.approx(COST_S * round(used_now / COST_S), abs=1.0)
    assert used_now >= used - 1.0
    assert int(shown.group(2)) == round(100 * used_now / 480)
    headroom = (
        f"{max(0.0, 480 - used_now):.0f} of 480 s headroom on the busiest method crm.deal.productrows.get"
    )
    assert headroom in headline
    assert not any("PROBLEM" in line for line in lines)


def test_a_method_bitrix24_blocked_is_a_status_problem(stack: LocalStack, costly: Any) -> None:
    rest, deal_id, _ = fresh_synced_deal(stack)
    costly("crm.deal.get")
    # Another client of the portal spends the method's budget. The stack's own workers may call
    # the method meanwhile (the synced deal's echo), so the budget may run out a call early.
    answers = [rest.send("crm.deal.get", {"id": deal_id})[0] for _ in range(3)]
    assert 429 in answers

    repaired = operator(stack, "resync", "deal", str(deal_id))
    assert repaired.returncode != 0
    assert "OPERATION_TIME_LIMIT" in repaired.stdout + repaired.stderr

    done = operator(stack, "status")
    assert done.returncode == 1
    problem = next((line.strip() for line in done.stdout.splitlines() if "PROBLEM" in line), done.stdout)
    assert problem.startswith("PROBLEM crm.deal.get: blocked by Bitrix24 until ")
    assert "(429 OPERATION_TIME_LIMIT)" in problem
    document = _status_json(stack)
    assert document["operating"]["blocked"] == ["crm.deal.get"]
    assert document["attention"] >= 1
