"""The deal flow's 1C call budget (issue 15, P3): the echo of our own write-back (the
ONCRMDEALUPDATE our order number raises) costs no 1C call and nothing a manager changes is
mistaken for it; a cold container takes the employee directory a sibling read from SyncTable."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bridge.catalog.setup import setup as catalog_setup
from bridge.deals import seen
from bridge.deals.flow import sync_deal
from bridge.deals.refs import deal_ref
from bridge.deals.setup import setup as deal_setup
from bridge.domain import directory
from bridge.domain.onec_sets import EMPLOYEES, PERSONS
from bridge.store import SyncStore
from sandbox.world.deals import World
from sandbox.world.rest import B24Rest
from tests.harness.deal_world import deal_at_trigger, new_deal, onec_calls, onec_seq, orders_for, ports, ready

pytestmark = pytest.mark.integration


@pytest.fixture
def world(running: World) -> World:
    return ready(running, ("deals", deal_setup), ("catalog", catalog_setup))


def _synced_deal(world: World) -> int:
    deal_id = new_deal(world)
    assert "created" in sync_deal(deal_id, ports(world))
    return deal_id


def test_echo_of_our_write_back_costs_no_1c_call(world: World) -> None:
    deal_id = _synced_deal(world)
    before = onec_seq(world)

    note = sync_deal(deal_id, ports(world))  # what the write-back's ONCRMDEALUPDATE runs

    assert note == "nothing: the mapped fields are unchanged"
    assert onec_calls(world, before) == []
    assert len(orders_for(world, deal_id)) == 1


def test_a_new_company_on_the_deal_still_reaches_the_order(world: World) -> None:
    deal_id = _synced_deal(world)
    (order,) = orders_for(world, deal_id)
    rest = B24Rest(world.b24_webhook_url)
    company, _ = rest.company_with_contact("Дельта ООО", "7723456789", "772301001")
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"COMPANY_ID": company}})
    before = onec_seq(world)

    assert "updated" in sync_deal(deal_id, ports(world))

    (changed,) = orders_for(world, deal_id)
    assert changed["Ref_Key"] == order["Ref_Key"]
    assert changed["Контрагент_Key"] != order["Контрагент_Key"]
    assert any(call.startswith("PATCH") for call in onec_calls(world, before))


def test_an_edit_in_the_same_second_as_our_write_back_is_not_taken_for_its_echo(world: World) -> None:
    # The link already "saw" every modification up to a minute from now, as when a manager saves
    # the deal within the second our update finished in: only the source hash tells them apart.
    deal_id = _synced_deal(world)
    link = ports(world).store.links.find_by_b24(deal_ref(deal_id))
    assert link is not None
    seen.note_seen(ports(world), link.b24, link.onec, datetime.now(UTC) + timedelta(minutes=1))
    B24Rest(world.b24_webhook_url).call(
        "crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Привезти к 9:00"}}
    )

    assert "updated" in sync_deal(deal_id, ports(world))

    (order,) = orders_for(world, deal_id)
    assert order["Комментарий"] == "Привезти к 9:00"


def _directory_reads(calls: list[str]) -> list[str]:
    return [c for c in calls if EMPLOYEES in c or PERSONS in c]


def _another_deal_of_the_same_product(world: World, deal_id: int) -> int:
    rest = B24Rest(world.b24_webhook_url)
    (row,) = rest.call("crm.deal.productrows.get", {"id": deal_id})
    return deal_at_trigger(
        rest,
        int(row["PRODUCT_ID"]),
        str(row["PRODUCT_NAME"]),
        5,
        title="Ещё болты",
        company=("Дельта ООО", "7723456789", "772301001"),
    )


def test_a_cold_container_takes_the_employee_directory_a_sibling_read(world: World) -> None:
    first = _synced_deal(world)
    directory.forget()  # another container: nothing cached in this process
    before = onec_seq(world)

    second = _another_deal_of_the_same_product(world, first)
    assert "created" in sync_deal(second, ports(world))

    calls = onec_calls(world, before)
    assert calls, "the second deal's buyer and order are written in 1C"
    assert _directory_reads(calls) == []
    (order,) = orders_for(world, second)
    (earlier,) = orders_for(world, first)
    assert order["Ответственный_Key"] == earlier["Ответственный_Key"]


def test_a_shared_directory_older_than_ten_minutes_is_read_from_1c_again(world: World) -> None:
    _synced_deal(world)
    directory.forget()
    later = SyncStore(world.table, world.dynamodb(), clock=lambda: time.time() + directory.CACHE_TTL_S + 1)
    before = onec_seq(world)

    found = directory.employees(ports(world).onec, shared=later.employee_directory)

    assert found
    assert len(_directory_reads(onec_calls(world, before))) == 2
