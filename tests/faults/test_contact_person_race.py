"""Scenario: a new deal's event and its new contact's event are handled at the same moment
(the worker runs several invocations at once), and both flows come to create the contact person.

No threads and no timing: each test stops one flow right after it took the contact person's
create-once claim, runs the other flow to the end of what it can do, then lets the first one go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from bridge.domain.onec_sets import CONTACT_PERSONS
from bridge.ports import Ports
from bridge.store import B24Ref, ClaimHeld
from tests.harness.faults import FaultWorld, _AfterEachCall, _with_stores

pytestmark = pytest.mark.faults


class _ThenOnce(_AfterEachCall):
    """Runs `then` once, right after the first contact person claim this store's user wins."""

    def __init__(self, real: Any, then: Callable[[], None]) -> None:
        super().__init__(real)
        self._then: Callable[[], None] | None = then

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if name != "claim":
            return attribute

        def claim(*args: Any, **kwargs: Any) -> Any:
            taken = attribute(*args, **kwargs)
            if self._then is not None and taken.won and str(args[0]).startswith("contact_person:"):
                then, self._then = self._then, None
                then()
            return taken

        return claim


def _holding_the_person_claim(ports: Ports, then: Callable[[], None]) -> Ports:
    store = _with_stores(ports.store, lambda real: real)
    store.links = cast(Any, _ThenOnce(ports.store.links, then))
    return replace(ports, store=store)


@dataclass(frozen=True)
class _NewDeal:
    """A manager's new deal with a new company and contact, and when it was made."""

    since: datetime
    inn: str
    deal: int
    contact: int


def _new_deal(world: FaultWorld, inn: str, company_title: str) -> _NewDeal:
    since = datetime.fromtimestamp(world.clock.now(), UTC)
    deal = world.new_deal("Сделка", inn, company_title=company_title)
    contact = int(world.rest.call("crm.deal.get", {"id": deal})["CONTACT_ID"])
    return _NewDeal(since, inn, deal, contact)


def _one_person(world: FaultWorld, inn: str, contact: int, *, main: bool) -> dict[str, Any]:
    (counterparty,) = world.counterparties(inn)
    people = [
        p
        for p in world.onec_rows(CONTACT_PERSONS, f"Owner_Key eq guid'{counterparty['Ref_Key']}'")
        if not p.get("DeletionMark")
    ]
    assert [p["Description"] for p in people] == ["Сидоров Пётр"]
    link = world.ports.store.links.find_by_b24(B24Ref(entity="CONTACT", id=str(contact)))
    assert link is not None
    assert (link.onec.entity_set, link.onec.ref) == (CONTACT_PERSONS, people[0]["Ref_Key"])
    if main:  # the deal flow made the person, and with it the counterparty's main contact
        assert counterparty["КонтактноеЛицо_Key"] == people[0]["Ref_Key"]
    return people[0]


def _held_audits(world: FaultWorld, since: datetime, flow: str, contact: int) -> list[Any]:
    return [
        e
        for e in world.ports.store.audit.since(since)
        if (e.flow, e.outcome, e.subject) == (flow, "claim_held", f"B24#CONTACT#{contact}")
    ]


def _one_order_on_one_person(world: FaultWorld, made: _NewDeal, *, main: bool, held_in: str) -> None:
    """Nothing dead, one contact person linked, the deal's one order on its counterparty, and one
    audit of the flow (`held_in`) that met the other's claim."""
    assert world.queue.dead == []
    person = _one_person(world, made.inn, made.contact, main=main)
    (order,) = world.orders_for(made.deal)
    assert order["Контрагент_Key"] == person["Owner_Key"]
    assert len(_held_audits(world, made.since, held_in, made.contact)) == 1


def test_the_contact_event_meeting_the_deal_creating_its_person_waits_and_links_that_person(
    world: FaultWorld,
) -> None:
    made = _new_deal(world, "7707000001", "Сигма-Новая ООО")
    deal, contact = made.deal, made.contact
    parties = world.parties_flow()  # its setup runs now, not inside the deal's run
    refused: list[BaseException] = []

    def the_contact_event_now() -> None:
        with pytest.raises(ClaimHeld) as held:
            parties.sync_b24("CONTACT", contact)
        refused.append(held.value)

    world.wrap_ports = lambda ports, queued: (
        _holding_the_person_claim(ports, the_contact_event_now) if queued.entity.value == "DEAL" else ports
    )
    world.event("ONCRMDEALADD", deal)
    world.drain()
    assert len(refused) == 1  # the contact's run met the deal's live claim and left its record
    world.wrap_ports = lambda ports, queued: ports
    world.event("ONCRMCONTACTADD", contact)  # its redelivery
    world.drain()

    _one_order_on_one_person(world, made, main=True, held_in="parties")


def test_the_deal_meeting_the_contact_event_creating_its_person_is_retried_and_uses_that_person(
    world: FaultWorld,
) -> None:
    made = _new_deal(world, "7707000002", "Тау-Новая ООО")
    deal, contact = made.deal, made.contact
    world.parties_flow()  # its setup, outside the interleaving
    world.event("ONCRMDEALADD", deal)
    deal_runs: list[Any] = []

    def the_deal_event_now() -> None:
        deal_runs.append(world.invoke_once())

    # The contact's own event: its run creates the company's counterparty, then claims the person.
    world.parties_flow(_holding_the_person_claim(world.ports, the_deal_event_now)).sync_b24(
        "CONTACT", contact
    )
    (run,) = deal_runs
    assert run is not None
    assert len(run.failed) == 1  # the deal met the live claim: its record is left to be retried
    assert world.orders_for(deal) == []
    world.drain()

    _one_order_on_one_person(world, made, main=False, held_in="deals")
