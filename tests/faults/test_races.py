"""Scenario: two workers act on the same thing at the same instant.

Each test holds both workers right after their lookups (a rendezvous), so both have seen
"nothing there yet" before either creates: the interleaving that used to create twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.store import B24Ref
from tests.harness.faults import ONEC_COUNTERPARTIES, FaultWorld, Rendezvous, meet_after, run_side_by_side

pytestmark = pytest.mark.faults


def _counterparty_lookup(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """The search for the buyer by INN (both flows), not setup's reads of the folder."""
    return name == "list" and args[:1] == (ONEC_COUNTERPARTIES,) and "ИНН" in str(kwargs.get("filter"))


def test_a_new_company_reaching_the_deal_flow_and_the_parties_flow_at_once_is_one_counterparty(
    world: FaultWorld,
) -> None:
    deal = world.new_deal("Сделка", "7705000001", company_title="Омега-Новая ООО")
    company = world.last_company
    meet = Rendezvous(2)
    world.wrap_ports = lambda ports, queued: meet_after(ports, meet, onec=_counterparty_lookup)
    world.event("ONCRMDEALADD", deal)
    world.event("ONCRMCOMPANYADD", company)
    first, second = world.queue.receive(limit=1), world.queue.receive(limit=1)

    run_side_by_side(world, [first, second])
    world.wrap_ports = lambda ports, queued: ports
    world.drain()

    assert world.queue.dead == []
    (counterparty,) = world.counterparties("7705000001")
    (order,) = world.orders_for(deal)
    assert order["Контрагент_Key"] == counterparty["Ref_Key"]
    link = world.ports.store.links.find_by_b24(B24Ref(entity="COMPANY", id=str(company)))
    assert link is not None
    assert link.onec.ref == counterparty["Ref_Key"]


def test_two_workers_on_one_deal_at_once_make_one_order_and_one_comment(world: FaultWorld) -> None:
    deal = world.new_deal("Сделка", "7706000001")
    meet = Rendezvous(2)

    def deal_link_lookup(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        return name == "find_by_b24" and bool(args) and getattr(args[0], "entity", "") == "DEAL"

    world.wrap_ports = lambda ports, queued: meet_after(ports, meet, links=deal_link_lookup)
    # The event and a sweep's re-queue of the same deal, handled by two containers at once.
    world.event("ONCRMDEALADD", deal)
    first = world.queue.receive(limit=1)
    world.event("ONCRMDEALUPDATE", deal)
    world.queue.messages[-1].group = "DEAL-sweep"  # not serialised behind the first by FIFO
    second = world.queue.receive(limit=1)

    run_side_by_side(world, [first, second])
    world.wrap_ports = lambda ports, queued: ports
    world.drain()

    assert world.queue.dead == []
    (order,) = world.orders_for(deal)
    assert len(world.counterparties("7706000001")) == 1
    created = [c for c in world.comments(deal) if "создан в 1С" in c]
    assert len(created) == 1
    assert world.rest.call("crm.deal.get", {"id": deal})["UF_CRM_1C_ORDER_REF"] == order["Ref_Key"]
