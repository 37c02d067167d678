"""Scenario: what one worker invocation of deal events costs besides Bitrix24 (issue 15, P3): the
resolved configuration is read once per invocation, and the echoes of our own write-backs cost no
1C call and only the SyncTable reads that prove them echoes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.harness.faults import FaultWorld

pytestmark = pytest.mark.faults


@pytest.fixture
def world(running: FaultWorld) -> FaultWorld:
    return running.fresh_coalescing()


def _count_table_calls(world: FaultWorld) -> Counter[str]:
    """SyncTable requests by operation and the item kinds they touch (pk prefix)."""
    seen: Counter[str] = Counter()

    def count(event_name: str, params: dict[str, Any], **_: Any) -> None:
        key = params.get("Key") or params.get("Item") or {}
        kind = str(key.get("pk", {}).get("S", "")).split("#", 1)[0]
        seen[f"{event_name.rsplit('.', 1)[-1]} {kind}"] += 1

    world.ports.store.table.client.meta.events.register("provide-client-params.dynamodb", count)
    return seen


def _onec_seq(world: FaultWorld) -> int:
    return int(httpx.get(f"{world.world.onec.url}/_sandbox/calls").json()["last_seq"])  # type: ignore[union-attr]


def _onec_calls(world: FaultWorld, since: int) -> list[dict[str, Any]]:
    url = f"{world.world.onec.url}/_sandbox/calls"  # type: ignore[union-attr]
    return list(httpx.get(url, params={"since": since}).json()["calls"])


def test_ten_deal_events_read_the_resolved_configuration_once(world: FaultWorld) -> None:
    deals = [world.new_deal(f"Сделка {n}", f"77{15_000_000 + n:08d}") for n in range(10)]
    for deal in deals:
        world.event("ONCRMDEALUPDATE", deal)
    table = _count_table_calls(world)

    invocation = world.invoke_once()

    assert invocation is not None
    assert invocation.failed == []
    assert all(len(world.orders_for(deal)) == 1 for deal in deals)
    assert table["GetItem CONFIG"] == 1


def test_echoes_of_our_write_backs_cost_no_1c_call(world: FaultWorld) -> None:
    deals = [world.new_deal(f"Сделка {n}", f"77{16_000_000 + n:08d}") for n in range(10)]
    for deal in deals:
        world.event("ONCRMDEALUPDATE", deal)
    first = world.invoke_once()
    assert first is not None
    assert first.failed == []
    for deal in deals:  # what each write-back's ONCRMDEALUPDATE queues
        world.event("ONCRMDEALUPDATE", deal)
    since = _onec_seq(world)
    table = _count_table_calls(world)

    echoes = world.invoke_once()

    assert echoes is not None
    assert echoes.failed == []
    assert _onec_calls(world, since) == []
    # Per deal: its link, its product's link and its journal record; the configuration once.
    assert table == {"GetItem B24": 2 * len(deals), "PutItem REC": len(deals), "GetItem CONFIG": 1}
    assert all(len(world.orders_for(deal)) == 1 for deal in deals)
