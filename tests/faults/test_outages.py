"""Scenario: the other side is down or hangs while events are queued.

Each ends with every order created exactly once and nothing in the dead-letter queue.
"""

from __future__ import annotations

import pytest

from tests.harness.faults import FaultWorld

pytestmark = pytest.mark.faults

OUTAGE_S = 30 * 60


def test_1c_down_for_30_minutes_every_order_once_and_nothing_dead_lettered(world: FaultWorld) -> None:
    deals = [world.new_deal(f"Сделка {n}", f"77010000{n:02d}") for n in range(3)]
    world.onec_fault(kind="error", status=500, count=1_000_000)
    messages = [world.event("ONCRMDEALADD", deal) for deal in deals]

    def end_outage(elapsed: float) -> None:
        if elapsed >= OUTAGE_S:
            world.onec_faults_clear()

    world.drain(on_time=end_outage)

    assert world.queue.dead == []
    for deal in deals:
        (order,) = world.orders_for(deal)
        assert world.rest.call("crm.deal.get", {"id": deal})["UF_CRM_1C_ORDER_REF"] == order["Ref_Key"]
    # The retries were paced by the worker, not by the queue's 6-minute visibility timeout: the
    # failed receives asked for growing delays, and the order came on a receive before the fifth.
    for message in messages:
        asked = [seconds for mid, seconds in world.queue.delays if mid == message]
        assert asked == sorted(asked)
        assert len(asked) >= 2
        # Receives at 0, 2, 12 and 42 minutes: the fourth, after the outage, creates the order.
        assert asked == [120, 600, 1800]
        assert world.receives_of(message) == 4 < world.queue.max_receives


def test_without_backoff_the_same_outage_would_dead_letter(world: FaultWorld) -> None:
    """The control: the queue's fixed 6-minute visibility spends 5 receives in 24 minutes."""
    world.worker_options = {"visibility": None}
    deal = world.new_deal("Сделка", "7702000001")
    world.onec_fault(kind="error", status=500, count=1_000_000)
    message = world.event("ONCRMDEALADD", deal)

    def end_outage(elapsed: float) -> None:
        if elapsed >= OUTAGE_S:
            world.onec_faults_clear()

    world.drain(on_time=end_outage)
    assert [m.id for m in world.queue.dead] == [message]
    assert world.orders_for(deal) == []


def test_a_hung_1c_call_fails_its_own_record_and_the_rest_of_the_batch_goes_on(world: FaultWorld) -> None:
    world.worker_options = {"record_budget_s": 5.0, "reserve_s": 1.0}
    deals = [world.new_deal(f"Сделка {n}", f"77030000{n:02d}") for n in range(3)]
    messages = [world.event("ONCRMDEALADD", deal) for deal in deals]
    # The first 1C request of the batch (the first deal's) hangs far longer than its budget, and
    # the client would otherwise wait it out (its own timeout is 30 s).
    world.onec_fault(kind="hang", seconds=8, count=1)

    first = world.invoke_once(remaining_s=16)  # 15 s to share: 5 s for the first record

    assert first is not None
    assert first.failed == [messages[0]]
    assert len(world.orders_for(deals[1])) == 1
    assert len(world.orders_for(deals[2])) == 1
    assert world.orders_for(deals[0]) == []
    world.drain()
    assert world.queue.dead == []
    assert all(len(world.orders_for(deal)) == 1 for deal in deals)
    assert world.receives_of(messages[0]) == 2


def test_a_record_is_not_started_when_the_invocation_is_nearly_over(world: FaultWorld) -> None:
    """Too little time left: the record goes back at once (visibility 0), it is not run to be killed."""
    world.worker_options = {"reserve_s": 5.0}
    deal = world.new_deal("Сделка", "7704000001")
    message = world.event("ONCRMDEALADD", deal)

    first = world.invoke_once(remaining_s=6)

    assert first is not None
    assert first.failed == [message]
    assert world.queue.delays == [(message, 0)]
    assert world.orders_for(deal) == []
    world.drain()
    assert len(world.orders_for(deal)) == 1


def test_a_bitrix24_503_storm_across_redeliveries_ends_with_one_order_and_one_comment(
    world: FaultWorld,
) -> None:
    deals = [world.new_deal(f"Сделка {n}", f"77140000{n:02d}") for n in range(2)]
    messages = [world.event("ONCRMDEALADD", deal) for deal in deals]
    # Bitrix24's answer to an overfull bucket, for the next 9 calls: the reads and write-backs of
    # three receives in a row fail, whatever step each deal had reached.
    world.b24_fault(method="*", count=9, status=503, error="QUERY_LIMIT_EXCEEDED")

    world.drain()

    assert world.queue.dead == []
    for deal in deals:
        (order,) = world.orders_for(deal)
        fields = world.rest.call("crm.deal.get", {"id": deal})
        assert fields["UF_CRM_1C_ORDER_REF"] == order["Ref_Key"]
        assert len([c for c in world.comments(deal) if "создан в 1С" in c]) == 1
    assert max(world.receives_of(m) for m in messages) >= 3


def test_a_deal_dead_lettered_by_a_1c_outage_longer_than_the_backoff_is_healed_by_the_sweep(
    world: FaultWorld,
) -> None:
    from datetime import UTC, datetime, timedelta

    from bridge.deals import sweep as deal_sweep
    from tests.faults.test_events import QueueSender

    deal = world.new_deal("Сделка", "7715000001")
    world.onec_fault(kind="error", status=500, count=1_000_000)
    world.event("ONCRMDEALADD", deal)
    world.drain()  # 5 receives over ~2 h 40 min, all during the outage
    assert len(world.queue.dead) == 1
    # The sweep runs every 5 minutes during the outage too: it sees the deal (no order yet) once.
    now = datetime.now(UTC)
    deal_sweep.sweep(world.ports, QueueSender(world), now=now)
    world.drain(horizon_s=24 * 3600)  # dead-lettered again: the outage outlasts the back-off
    assert len(world.queue.dead) == 2
    world.onec_faults_clear()
    # Four hours on: other deals have moved the sweep's cursor far past this one. Only the sweep
    # writes its cursor, and it carries its retry set along, so only `since` moves here.
    later = now + timedelta(hours=4)
    cursor = world.ports.store.cursors.get(deal_sweep.CURSOR)
    assert cursor is not None
    world.ports.store.cursors.put(
        deal_sweep.CURSOR, cursor.value | {"since": later.isoformat()}, expected_version=cursor.version
    )
    results = []
    for tick in range(12):  # an hour of sweeps after 1C is back
        results.append(
            deal_sweep.sweep(world.ports, QueueSender(world), now=later + timedelta(minutes=5 * tick))
        )
        world.drain(horizon_s=24 * 3600)
    (order,) = world.orders_for(deal)
    assert world.rest.call("crm.deal.get", {"id": deal})["UF_CRM_1C_ORDER_REF"] == order["Ref_Key"]
    # Healed from the retry set (the window no longer lists the deal), then forgotten: nothing
    # given up, nothing tracked, nothing waiting in the queue.
    assert all(deal not in r.queued for r in results)
    assert [r.healed for r in results if r.healed] == [(deal,)]
    assert all(r.gave_up == () for r in results)
    cursor = world.ports.store.cursors.get(deal_sweep.CURSOR)
    assert cursor is not None
    assert "retry" not in cursor.value
    assert world.queue.messages == []
    # What is left in the DLQ is stale: redriving it (an operator's reflex) makes no second order.
    stale = list(world.queue.dead)
    world.queue.dead.clear()
    for message in stale:
        world.queue.messages.append(message)
        message.receives = 0
        message.visible_at = world.clock.now()
    world.drain(horizon_s=48 * 3600)
    assert world.queue.dead == []
    assert len(world.orders_for(deal)) == 1
