"""Scenario: the worker dies at each step boundary of each flow, right after a write reached the
other system and before the next (the link, the write-back, the claim's settlement), and the event
is redelivered. Every boundary must end as a clean run would: one of everything."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.domain.onec_sets import COUNTERPARTIES
from bridge.store import B24Ref, OneCRef
from tests.harness.faults import CrashPlan, FaultWorld, WorkerDied, crashing

pytestmark = pytest.mark.faults


def _deal_outcome(world: FaultWorld, deal: int, inn: str) -> list[str]:
    """What is wrong with the deal's result (empty when it is exactly one of everything)."""
    problems = []
    orders = world.orders_for(deal)
    if len(orders) != 1:
        problems.append(f"{len(orders)} orders")
    counterparties = world.counterparties(inn)
    if len(counterparties) != 1:
        problems.append(f"{len(counterparties)} counterparties")
    else:
        people = world.onec_rows(
            "Catalog_КонтактныеЛица", f"Owner_Key eq guid'{counterparties[0]['Ref_Key']}'"
        )
        if len(people) != 1:
            problems.append(f"{len(people)} contact persons")
        if orders and orders[0]["Контрагент_Key"] != counterparties[0]["Ref_Key"]:
            problems.append("the order is not on the counterparty")
    created = [c for c in world.comments(deal) if "создан в 1С" in c]
    if len(created) != 1:
        problems.append(f"{len(created)} 'created' comments")
    fields = world.rest.call("crm.deal.get", {"id": deal})
    if orders and fields.get("UF_CRM_1C_ORDER_REF") != orders[0]["Ref_Key"]:
        problems.append("the deal does not show the order")
    return problems


def test_a_crash_after_each_write_of_the_deal_flow_ends_with_one_of_everything(world: FaultWorld) -> None:
    plans: dict[int, CrashPlan] = {}
    world.wrap_ports = lambda ports, queued: crashing(ports, plans[queued.id])
    clean = world.new_deal("Сделка 0", "7707000000")
    plans[clean] = CrashPlan()
    world.event("ONCRMDEALADD", clean)
    world.drain()
    boundaries = list(plans[clean].seen)
    assert _deal_outcome(world, clean, "7707000000") == []
    assert any(b.startswith("1C create Document_") for b in boundaries), boundaries

    # One deal per boundary, all in the queue at once (each dies at its own boundary).
    deals = {}
    for index, boundary in enumerate(boundaries):
        inn = f"77071{index:05d}"
        deal = world.new_deal(f"Сделка {index + 1}", inn)
        plans[deal] = CrashPlan(at=index)
        deals[boundary if boundary not in deals else f"{boundary} #{index}"] = (deal, inn)
        world.event("ONCRMDEALADD", deal)
    world.drain()

    assert world.queue.dead == []
    assert [plans[deal].crashed for deal, _ in deals.values()] == boundaries
    problems = {b: found for b, (deal, inn) in deals.items() if (found := _deal_outcome(world, deal, inn))}
    assert problems == {}


def test_a_crash_after_each_write_of_the_parties_flow_b24_to_1c_ends_with_one_counterparty(
    world: FaultWorld,
) -> None:
    plans: dict[int, CrashPlan] = {}
    world.wrap_ports = lambda ports, queued: crashing(ports, plans[queued.id])
    world.parties_flow()  # the parties flow's own setup, outside the counted writes
    company, _ = world.rest.company_with_contact("Дельта-0 ООО", "7708000000", "770801001")
    plans[company] = CrashPlan()
    world.event("ONCRMCOMPANYADD", company)
    world.drain()
    boundaries = list(plans[company].seen)
    assert any(b == f"1C create {COUNTERPARTIES}" for b in boundaries), boundaries

    companies = {}
    for index, boundary in enumerate(boundaries):
        inn = f"77081{index:05d}"
        company, _ = world.rest.company_with_contact(f"Дельта-{index + 1} ООО", inn, inn[:4] + "01001")
        plans[company] = CrashPlan(at=index)
        companies[boundary if boundary not in companies else f"{boundary} #{index}"] = (company, inn)
        world.event("ONCRMCOMPANYADD", company)
    world.drain()

    assert world.queue.dead == []
    assert [plans[company].crashed for company, _ in companies.values()] == boundaries
    problems: dict[str, str] = {}
    for boundary, (company, inn) in companies.items():
        counterparties = world.counterparties(inn)
        link = world.ports.store.links.find_by_b24(B24Ref(entity="COMPANY", id=str(company)))
        if len(counterparties) != 1:
            problems[boundary] = f"{len(counterparties)} counterparties"
        elif link is None or link.onec.ref != counterparties[0]["Ref_Key"]:
            problems[boundary] = "the company is not linked to its counterparty"
    assert problems == {}


def _new_onec_counterparty(world: FaultWorld, name: str, inn: str) -> str:
    row = world.ports.onec.create(
        COUNTERPARTIES,
        {"Description": name, "ИНН": inn, "ВидКонтрагента": "ЮридическоеЛицо", "Покупатель": True},
    )
    return str(row["Ref_Key"])


def _companies_titled(world: FaultWorld, title: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = world.rest.call("crm.company.list", {"filter": {"=TITLE": title}})
    return rows


def test_a_crash_after_each_write_of_the_parties_flow_1c_to_b24_ends_with_one_company(
    world: FaultWorld,
) -> None:
    """The 1C side is polled, not queued: the next poll is the retry."""
    plan = CrashPlan()
    world.parties_flow()  # the parties flow's own setup, outside the counted writes
    flow = world.parties_flow(crashing(world.ports, plan))
    ref = _new_onec_counterparty(world, "Эпсилон-0 ООО", "7709000000")
    flow.sync_onec(COUNTERPARTIES, ref)
    boundaries = list(plan.seen)
    assert any(b == "b24 crm.company.add" for b in boundaries), boundaries

    problems: dict[str, str] = {}
    for index, boundary in enumerate(boundaries):
        title = f"Эпсилон-{index + 1} ООО"
        ref = _new_onec_counterparty(world, title, f"77091{index:05d}")
        plan.at, plan.seen, plan.crashed = index, [], None
        with pytest.raises(WorkerDied):
            world.parties_flow(crashing(world.ports, plan)).sync_onec(COUNTERPARTIES, ref)
        assert plan.crashed == boundary
        world.parties_flow().sync_onec(COUNTERPARTIES, ref)  # the next poll
        companies = _companies_titled(world, title)
        link = world.ports.store.links.find_by_onec(OneCRef(entity_set=COUNTERPARTIES, ref=ref))
        if len(companies) != 1:
            problems[boundary] = f"{len(companies)} companies"
        elif link is None or link.b24.id != str(companies[0]["ID"]):
            problems[boundary] = "the counterparty is not linked to its company"
    assert problems == {}
