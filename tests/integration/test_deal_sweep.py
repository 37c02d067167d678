"""The sweep queues what a lost event would have: a deal at a trigger stage without an order."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bridge.b24.client import B24Client
from bridge.b24.models import BatchResult
from bridge.catalog.setup import setup as catalog_setup
from bridge.deals.flow import sync_deal
from bridge.deals.setup import setup as deal_setup
from bridge.deals.sweep import sweep
from bridge.domain.events import QueuedEvent
from bridge.setup import run_steps
from sandbox.world.deals import World
from sandbox.world.rest import B24Rest

pytestmark = pytest.mark.integration


class Collect:
    def __init__(self) -> None:
        self.sent: list[tuple[QueuedEvent, str]] = []

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        self.sent.append((QueuedEvent.model_validate_json(body), group_id))
        return str(len(self.sent))


@pytest.fixture
def world(moto_endpoint: str) -> Iterator[World]:
    with_world = World(moto_endpoint).start()
    assert with_world.ports is not None
    assert run_steps([("deals", deal_setup), ("catalog", catalog_setup)], with_world.ports, dry_run=False).ok
    yield with_world
    with_world.stop()


def test_sweep_queues_only_deals_that_may_need_an_order_and_the_worker_creates_it(world: World) -> None:
    assert world.ports is not None
    rest = B24Rest(world.b24_webhook_url)
    company, contact = rest.company_with_contact("Сигма ООО", "7711111111", "771101001")
    at_trigger = rest.deal("Продажа", rest.stage_id("Продажи", "Продажа материала"), company, contact, [])
    too_early = rest.deal("Новая", rest.stage_id("Продажи", "Новая"), company, contact, [])
    sender = Collect()
    result = sweep(world.ports, sender)
    assert result.queued == (at_trigger,)
    ((event, group),) = sender.sent
    assert (event.event, event.entity, event.id, group) == (
        "ONCRMDEALUPDATE",
        "DEAL",
        at_trigger,
        f"DEAL-{at_trigger}",
    )
    assert "created" in sync_deal(event.id, world.ports)
    assert too_early not in result.queued
    assert world.ports.store.cursors.get("deal-sweep") is not None


def test_our_own_write_back_is_not_taken_for_a_managers_edit(world: World) -> None:
    """The order number written back modifies the deal; the sweep must not queue it for that (it
    would re-queue it until it raised a false "gave up" alarm), but must for a later real edit."""
    assert world.ports is not None
    rest = B24Rest(world.b24_webhook_url)
    company, contact = rest.company_with_contact("Сигма ООО", "7711111111", "771101001")
    deal = rest.deal("Продажа", rest.stage_id("Продажи", "Продажа материала"), company, contact, [])
    created_at = rest.call("crm.deal.get", {"id": deal})["DATE_MODIFY"]
    time.sleep(1.05)  # DATE_MODIFY has whole seconds: the write-back's is then surely a later one
    assert "created" in sync_deal(deal, world.ports)
    assert rest.call("crm.deal.get", {"id": deal})["DATE_MODIFY"] > created_at

    after_write_back = Collect()
    sweep(world.ports, after_write_back)
    assert after_write_back.sent == []

    time.sleep(1.05)  # and a manager's edit a second later is a later modification
    rest.call("crm.deal.update", {"id": deal, "fields": {"COMMENTS": "Доставка после 15:00"}})
    after_edit = Collect()
    sweep(world.ports, after_edit)
    assert [(event.id, group) for event, group in after_edit.sent] == [(deal, f"DEAL-{deal}")]


class _NoTimes:
    """A portal whose `batch` answers carry no `result_time` (not every portal may send it)."""

    def __init__(self, client: B24Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch(self, *args: Any, **kwargs: Any) -> BatchResult:
        return dataclasses.replace(self._client.batch(*args, **kwargs), time={})


def test_without_result_time_the_write_back_costs_one_requeue_and_no_alarm(world: World) -> None:
    assert world.ports is not None
    ports = dataclasses.replace(world.ports, b24=cast("B24Client", _NoTimes(world.ports.b24)))
    rest = B24Rest(world.b24_webhook_url)
    company, contact = rest.company_with_contact("Сигма ООО", "7711111111", "771101001")
    deal = rest.deal("Продажа", rest.stage_id("Продажи", "Продажа материала"), company, contact, [])
    time.sleep(1.05)  # the write-back's DATE_MODIFY is then surely after what the create run saw
    assert "created" in sync_deal(deal, ports)
    start = datetime.now(UTC)
    requeue = Collect()
    assert sweep(ports, requeue, now=start).queued == (deal,)  # our write-back, not told apart
    ((event, _),) = requeue.sent
    assert "nothing" in sync_deal(event.id, ports)  # the re-queued run (or the echo) records it
    later = sweep(ports, Collect(), now=start + timedelta(minutes=11))
    assert (later.healed, later.retried, later.gave_up) == ((deal,), (), ())
