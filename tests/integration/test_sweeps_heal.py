"""Sweeps heal: what failed after the sweep queued it is picked up again with backoff, reported
once it keeps failing, and then costs nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bridge.catalog.setup import setup as catalog_setup
from bridge.deals.flow import sync_deal
from bridge.deals.setup import setup as deal_setup
from bridge.deals.sweep import CURSOR, MAX_RETRIES, sweep
from bridge.domain.events import QueuedEvent
from bridge.errors import TransientError
from bridge.parties.poller import SWEEP_CURSOR
from bridge.parties.poller import SWEEP_MAX_RETRIES as PARTIES_MAX_RETRIES
from bridge.parties.poller import run as run_parties
from bridge.setup import run_steps
from sandbox.world.deals import World
from sandbox.world.rest import B24Rest
from tests.harness.parties_world import World as PartiesWorld
from tests.harness.parties_world import start_world

pytestmark = pytest.mark.integration


class Worker:
    """The queue and its worker in one: each sent event runs the deal flow; a transient failure
    is what the queue would redeliver until it parks the message in the DLQ."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.outcomes: list[tuple[int, str]] = []

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        event = QueuedEvent.model_validate_json(body)
        assert self.world.ports is not None
        try:
            self.outcomes.append((event.id, sync_deal(event.id, self.world.ports)))
        except TransientError as error:
            self.outcomes.append((event.id, f"dlq: {error}"))
        return str(len(self.outcomes))


@pytest.fixture
def world(moto_endpoint: str) -> Iterator[World]:
    running = World(moto_endpoint).start()
    assert running.ports is not None
    assert run_steps([("deals", deal_setup), ("catalog", catalog_setup)], running.ports, dry_run=False).ok
    yield running
    running.stop()


def deal_list_calls(world: World) -> int:
    assert world.b24 is not None
    calls = httpx.get(world.b24.url + "/_sandbox/calls", params={"method": "crm.deal.list"}).json()
    return len(calls["calls"])


def test_a_deal_parked_in_the_dlq_while_1c_was_down_is_retried_and_heals(world: World) -> None:
    assert world.ports is not None
    assert world.onec is not None
    rest = B24Rest(world.b24_webhook_url)
    company, contact = rest.company_with_contact("Сигма ООО", "7711111111", "771101001")
    deal = rest.deal("Продажа", rest.stage_id("Продажи", "Продажа материала"), company, contact, [])
    worker = Worker(world)
    httpx.post(
        world.onec.url + "/_sandbox/faults", json={"kind": "error", "count": 10_000}
    ).raise_for_status()
    t0 = datetime.now(UTC)

    first = sweep(world.ports, worker, now=t0)
    assert first.queued == (deal,)
    assert worker.outcomes[-1][1].startswith("dlq")  # 1C down: the event ends in the DLQ
    # Before its backoff is due the deal is left alone.
    assert sweep(world.ports, worker, now=t0 + timedelta(minutes=5)).retried == ()

    httpx.delete(world.onec.url + "/_sandbox/faults").raise_for_status()  # 1C is back; nobody edits the deal
    second = sweep(world.ports, worker, now=t0 + timedelta(minutes=11))
    assert second.retried == (deal,)
    assert "created" in worker.outcomes[-1][1]
    third = sweep(world.ports, worker, now=t0 + timedelta(minutes=40))
    assert third.healed == (deal,)
    cursor = world.ports.store.cursors.get(CURSOR)
    assert cursor is not None
    assert "retry" not in cursor.value


def test_a_deal_that_keeps_failing_is_reported_once_and_then_costs_nothing(world: World) -> None:
    assert world.ports is not None
    rest = B24Rest(world.b24_webhook_url)
    # No company and no contact: the flow refuses it as permanent (a person must add a buyer).
    stuck = rest.deal("Без покупателя", rest.stage_id("Продажи", "Продажа материала"), None, None, [])
    worker = Worker(world)
    t0 = datetime.now(UTC)
    first = sweep(world.ports, worker, now=t0)
    assert first.queued == (stuck,)

    moment, runs = t0, []
    for _ in range(MAX_RETRIES + 2):
        moment += timedelta(hours=6)  # past any backoff
        runs.append(sweep(world.ports, worker, now=moment))
    retried = [r for r in runs if r.retried == (stuck,)]
    gave_up = [r for r in runs if r.gave_up == (stuck,)]
    assert len(retried) == MAX_RETRIES
    assert len(gave_up) == 1
    assert [deal for deal, _ in worker.outcomes] == [stuck] * (MAX_RETRIES + 1)
    today = datetime.now(UTC).date()  # the audit item carries the store's clock, not the sweep's
    audit = [e for e in world.ports.store.audit.list(today) if e.outcome == "sweep-gave-up"]
    assert [e.subject for e in audit] == [f"DEAL-{stuck}"]

    # After the report: no re-check, no extra Bitrix24 call, nothing queued.
    before = deal_list_calls(world)
    later = sweep(world.ports, worker, now=moment + timedelta(hours=6))
    assert (later.checked, later.retried, later.queued) == (0, (), ())
    assert deal_list_calls(world) - before == 1  # the window listing only


# --- parties ------------------------------------------------------------------------------------


@pytest.fixture
def parties(sync_table: str, dynamodb: Any) -> Iterator[PartiesWorld]:
    yield from start_world(sync_table, dynamodb)


def break_counterparty_creation(world: PartiesWorld) -> None:
    """1C refuses every new counterparty (500) until the faults are cleared."""
    httpx.post(
        world.onec_url + "/_sandbox/faults",
        json={"kind": "error", "count": 100_000, "method": "POST", "path_prefix": "Catalog_Контрагенты"},
    ).raise_for_status()


def onec_writes_for(world: PartiesWorld, since: int) -> int:
    return len(world.onec_writes(since))


def test_a_failing_company_no_longer_pins_the_parties_cursor_and_heals_when_1c_is_back(
    parties: PartiesWorld,
) -> None:
    parties.run()
    break_counterparty_creation(parties)
    company = parties.b24("crm.company.add", {"fields": {"TITLE": "Омега Лтд"}})
    t0 = datetime.now(UTC)
    first = run_parties(parties.flow(), now=t0)
    assert f"B24#COMPANY#{company}" in first.failures
    cursor = parties.ports.store.cursors.get(SWEEP_CURSOR)
    assert cursor is not None
    assert f"COMPANY#{company}" in cursor.value["retry"]

    # Not due yet: the failed company costs nothing, although the window boundary lists it.
    seq = parties.onec_seq()
    quiet = run_parties(parties.flow(), now=t0 + timedelta(minutes=5))
    assert quiet.failures == {}
    assert f"B24#COMPANY#{company}" not in quiet.outcomes
    assert onec_writes_for(parties, seq) == 0

    httpx.delete(parties.onec_url + "/_sandbox/faults").raise_for_status()  # nobody edits the company
    healed = run_parties(parties.flow(), now=t0 + timedelta(minutes=11))
    assert healed.retried == [f"B24#COMPANY#{company}"]
    assert healed.failures == {}
    assert parties.onec_list("Catalog_Контрагенты", Description="Омега Лтд")
    cursor = parties.ports.store.cursors.get(SWEEP_CURSOR)
    assert cursor is not None
    assert "retry" not in cursor.value


def test_an_always_failing_company_is_reported_once_then_left_alone(parties: PartiesWorld) -> None:
    parties.run()
    break_counterparty_creation(parties)
    company = parties.b24("crm.company.add", {"fields": {"TITLE": "Вечно Ломаная"}})
    key = f"B24#COMPANY#{company}"
    moment = datetime.now(UTC)
    reports = [run_parties(parties.flow(), now=moment)]
    for _ in range(PARTIES_MAX_RETRIES + 2):
        moment += timedelta(hours=6)
        reports.append(run_parties(parties.flow(), now=moment))
    attempts = [r for r in reports if key in r.failures]
    assert len(attempts) == 1 + PARTIES_MAX_RETRIES  # the first failure, then the retries
    assert [r.gave_up for r in reports if r.gave_up] == [[key]]
    today = datetime.now(UTC).date()
    audit = [e for e in parties.ports.store.audit.list(today) if e.outcome == "sweep-gave-up"]
    assert [e.subject for e in audit] == [key]

    # Later runs: no attempt, no write, no new report — and another company still syncs.
    httpx.delete(parties.onec_url + "/_sandbox/faults").raise_for_status()
    other = parties.b24("crm.company.add", {"fields": {"TITLE": "Новая Надёжная"}})
    later = run_parties(parties.flow(), now=moment + timedelta(hours=6))
    assert key not in later.outcomes
    assert key not in later.failures
    assert later.gave_up == []
    assert f"B24#COMPANY#{other}" in later.outcomes
