"""Scenario: the worker coalesces the deal flow's Bitrix24 calls across one invocation (issue 15, P3).

The worker as bridge.deps wires it (`world.coalesce`): a batch of deal events is read in as few
`batch` calls as the 50-command limit allows and written back in one. What a person sees must not
change: one order per deal, its number on the deal, one "order created" comment; what fails is
retried without a second order.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.domain.records import RecordRef
from bridge.pipeline.audit import AUDIT_FLOW
from tests.harness.faults import FaultWorld

pytestmark = pytest.mark.faults


@pytest.fixture
def world(running: FaultWorld) -> FaultWorld:
    return running.fresh_coalescing()


def _cursor(world: FaultWorld) -> int:
    return int(world.rest.sandbox("/_sandbox/calls")["cursor"])


def _calls(world: FaultWorld, since: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(HTTP requests, commands inside `batch` requests) the emulator journalled after `since`."""
    calls = world.rest.sandbox(f"/_sandbox/calls?since={since}")["calls"]
    return [c for c in calls if "batch" not in c], [c for c in calls if "batch" in c]


def _inside(subs: list[dict[str, Any]], request: dict[str, Any]) -> list[str]:
    return [c["method"] for c in subs if c["batch"] == request["seq"]]


def _number_on(world: FaultWorld, deal: int) -> str:
    return str(world.rest.call("crm.deal.get", {"id": deal}).get("UF_CRM_1C_ORDER_NO") or "")


def _created_comments(world: FaultWorld, deal: int) -> list[str]:
    return [c for c in world.comments(deal) if "создан в 1С" in c]


def _deals(world: FaultWorld, count: int, inn_from: int) -> list[int]:
    return [world.new_deal(f"Сделка {n}", f"77{inn_from + n:08d}") for n in range(count)]


def test_ten_deal_events_cost_two_reads_and_one_write_back(world: FaultWorld) -> None:
    deals = _deals(world, 10, 13_000_000)
    for deal in deals:
        world.event("ONCRMDEALUPDATE", deal)
    since = _cursor(world)

    invocation = world.invoke_once()

    assert invocation is not None
    assert len(invocation.records) == 10
    assert invocation.failed == []
    requests, subs = _calls(world, since)
    assert [r["method"] for r in requests] == ["batch", "batch", "batch"]
    # 7 commands per deal: 7 deals fill the first read (49 of 50), 3 the second.
    assert _inside(subs, requests[0]).count("crm.deal.get") == 7
    assert _inside(subs, requests[1]).count("crm.deal.get") == 3
    written = _inside(subs, requests[2])
    assert written.count("crm.deal.update") == 10
    assert written.count("crm.timeline.comment.add") == 10
    for deal in deals:
        (order,) = world.orders_for(deal)
        number = order["Number"].strip()
        assert _number_on(world, deal) == number
        assert _created_comments(world, deal) == [f"Заказ покупателя № {number} создан в 1С"]


def test_a_deal_twice_in_one_batch_is_read_again_after_its_own_write_back(world: FaultWorld) -> None:
    first, other = _deals(world, 2, 14_000_000)
    ts = int(world.clock.now())
    world.event("ONCRMDEALUPDATE", first, ts=ts)
    world.event("ONCRMDEALUPDATE", other, ts=ts)
    world.event("ONCRMDEALUPDATE", first, ts=ts + 1)  # the manager saved the deal again
    since = _cursor(world)

    invocation = world.invoke_once()

    assert invocation is not None
    assert invocation.failed == []
    requests, subs = _calls(world, since)
    methods = [(c["method"], str(c["params"].get("id"))) for c in subs]
    # The second event of `first` sees the number written back for the first one, not the
    # state read ahead before it.
    written = methods.index(("crm.deal.update", str(first)))
    assert ("crm.deal.get", str(first)) in methods[written:]
    assert len(requests) == 4  # read ahead, first's write-back, first read again, other's write-back
    for deal in (first, other):
        (order,) = world.orders_for(deal)
        assert _number_on(world, deal) == order["Number"].strip()
        assert len(_created_comments(world, deal)) == 1


def test_a_write_back_that_did_not_land_fails_only_its_record_and_its_retry_writes_it(
    world: FaultWorld,
) -> None:
    deals = _deals(world, 3, 15_000_000)
    messages = [world.event("ONCRMDEALUPDATE", deal) for deal in deals]
    world.b24_fault(method="crm.deal.update", count=1, status=400, error="ACCESS_DENIED")

    invocation = world.invoke_once()

    assert invocation is not None
    assert invocation.failed == [messages[0]]
    assert _number_on(world, deals[0]) == ""
    assert all(_number_on(world, deal) for deal in deals[1:])
    handled = world.ports.store.audit.history(RecordRef(kind="deal", key=str(deals[0])))
    assert any(e.flow == AUDIT_FLOW and e.outcome == "retry" for e in handled)

    world.drain()

    assert world.queue.dead == []
    assert world.receives_of(messages[0]) == 2
    for deal in deals:
        (order,) = world.orders_for(deal)
        number = order["Number"].strip()
        assert _number_on(world, deal) == number
        # The comment landed the first time; the retry writes only the number.
        assert _created_comments(world, deal) == [f"Заказ покупателя № {number} создан в 1С"]


def test_a_read_error_for_one_deal_leaves_the_others_to_proceed(world: FaultWorld) -> None:
    deals = _deals(world, 3, 16_000_000)
    for deal in deals:
        world.event("ONCRMDEALUPDATE", deal)
    world.b24_fault(
        method="crm.deal.get", count=1, status=400, error="NOT_FOUND", error_description="Not found"
    )

    invocation = world.invoke_once()

    assert invocation is not None
    assert invocation.failed == []
    assert world.orders_for(deals[0]) == []
    audited = world.ports.store.audit.history(RecordRef(kind="deal", key=str(deals[0])))
    assert any(e.outcome == "failed" and "Not found" in e.detail.get("reason", "") for e in audited)
    for deal in deals[1:]:
        (order,) = world.orders_for(deal)
        assert _number_on(world, deal) == order["Number"].strip()
