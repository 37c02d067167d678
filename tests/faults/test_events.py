"""Scenario: Bitrix24's events arrive twice, out of order, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.deals.sweep import sweep
from bridge.domain.events import QueuedEvent
from tests.harness.faults import FaultWorld

pytestmark = pytest.mark.faults


def _rows(world: FaultWorld, deal: int, quantity: int) -> None:
    (row,) = world.rest.call("crm.deal.productrows.get", {"id": deal})
    keep = ("PRODUCT_ID", "PRODUCT_NAME", "PRICE", "MEASURE_CODE")
    world.rest.call(
        "crm.deal.productrows.set", {"id": deal, "rows": [{k: row[k] for k in keep} | {"QUANTITY": quantity}]}
    )


def test_duplicate_deliveries_make_one_order_and_one_comment(world: FaultWorld) -> None:
    deal = world.new_deal("Сделка", "7711000001")
    ts = int(world.clock.now())
    first = world.event("ONCRMDEALADD", deal, ts=ts)
    world.queue.messages.append(world.queue.messages[-1].__class__(**vars(world.queue.messages[-1])))
    world.queue.messages[-1].id = first + "-again"  # SQS at-least-once: the same message twice
    world.event("ONCRMDEALUPDATE", deal, ts=ts)  # Bitrix24's UPDATE for the same save
    world.event("ONCRMDEALUPDATE", deal, ts=ts + 1)

    world.drain()

    assert world.queue.dead == []
    (order,) = world.orders_for(deal)
    assert [c for c in world.comments(deal) if "создан в 1С" in c] == [
        f"Заказ покупателя № {order['Number'].strip()} создан в 1С"
    ]


def test_events_out_of_order_end_with_the_deal_as_it_is_now(world: FaultWorld) -> None:
    deal = world.new_deal("Сделка", "7712000001", quantity=10)
    add_ts = int(world.clock.now())
    _rows(world, deal, 12)
    # The later UPDATE is queued before the ADD (two deliveries racing to the receiver).
    world.event("ONCRMDEALUPDATE", deal, ts=add_ts + 5)
    world.event("ONCRMDEALADD", deal, ts=add_ts)

    world.drain()

    (order,) = world.orders_for(deal)
    assert [row["Количество"] for row in order["Запасы"]] == [12]
    assert world.queue.dead == []


class QueueSender:
    """The sweep's SQS sender, onto the simulated queue."""

    def __init__(self, world: FaultWorld) -> None:
        self.world = world

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        queued = QueuedEvent.model_validate_json(body)
        assert queued.group_id == group_id
        return self.world.queue.send(queued)


def test_a_lost_event_is_made_up_by_the_sweep(world: FaultWorld) -> None:
    deal = world.new_deal("Сделка", "7713000001")  # Bitrix24 never delivered its ADD
    done = world.new_deal("Другая сделка", "7713000002")
    world.event("ONCRMDEALADD", done)
    world.drain()

    result = sweep(world.ports, QueueSender(world), now=datetime.now(UTC))
    world.drain()

    assert deal in result.queued
    assert done not in result.queued
    assert len(world.orders_for(deal)) == 1
    assert len(world.orders_for(done)) == 1
    assert world.queue.dead == []
