"""Failures reach a person: a payment or parties sync that fails for good leaves ONE timeline
comment on the deal or company per distinct problem (not one per run), besides its audit item."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bridge.payments.poller import poll
from bridge.payments.recompute import PaymentsContext
from bridge.payments.resolved import resolved_config
from sandbox.serve import RunningServer
from sandbox.world.payments import PaymentsWorld
from tests.harness.emulators import bizproc_payments_world
from tests.harness.parties_world import World as PartiesWorld
from tests.harness.parties_world import start_world

pytestmark = pytest.mark.integration


@pytest.fixture
def world(servers: tuple[RunningServer, RunningServer], sync_table: str, dynamodb) -> PaymentsWorld:  # type: ignore[no-untyped-def]
    return bizproc_payments_world(servers, sync_table, dynamodb)


def _context(world: PaymentsWorld) -> PaymentsContext:
    ports = world.ports(onec_attempts=1)
    return PaymentsContext(
        ports=ports,
        options=world.mapping.payments,
        resolved=resolved_config(ports.store),
        portal_url="https://portal.example",
    )


def _failure_comments(world: PaymentsWorld, deal_id: int) -> list[str]:
    return [c for c in world.rest.comments(deal_id) if "не перенесены в сделку" in c]


def test_a_payment_sync_failing_for_good_comments_once_on_the_deal(world: PaymentsWorld) -> None:
    deal_id = world.new_deal("Поставка болтов", assigned=3, stage="PREPAYMENT_INVOICE")
    order_ref = world.new_order(quantity=100, price=12.5)
    world.link(deal_id, order_ref)
    world.pay(order_ref, 500)
    ctx = _context(world)
    # 1C refuses to read this order (a 400 is not retried): the payment can never reach the deal.
    world.onec_sandbox(
        "faults", {"kind": "error", "count": 1000, "path_prefix": "Document_ЗаказПокупателя(", "status": 400}
    )

    first = poll(ctx)
    world.pay(order_ref, 300)  # the order changes, so the next run meets the same problem again
    second = poll(ctx)

    world.onec_sandbox("faults", method="DELETE")
    assert order_ref in first.failed
    assert order_ref in second.failed
    (comment,) = _failure_comments(world, deal_id)
    assert "Оплаты и состояние заказа из 1С не перенесены в сделку" in comment
    day = datetime.now(UTC).date()
    told = [e for e in ctx.ports.store.audit.list(day) if e.outcome == "PaymentSyncFailed"]
    assert [e.detail["commented"] for e in told] == [True, False]
    assert {e.subject for e in told} == {f"DEAL-{deal_id}"}
    assert world.deal(deal_id).get("UF_CRM_1C_PAID") in (None, "", False)


@pytest.fixture
def parties(sync_table: str, dynamodb: Any) -> Iterator[PartiesWorld]:
    yield from start_world(sync_table, dynamodb)


def test_a_parties_sync_failing_for_good_comments_once_on_the_company(parties: PartiesWorld) -> None:
    parties.run()
    [row] = parties.onec_list("Catalog_Контрагенты", Description="Альфа-Строй ООО")
    [company] = parties.b24("crm.company.list", {"filter": {"TITLE": "Альфа-Строй ООО"}})
    # Bitrix24 refuses every update of the company's requisite (a 400 is not retried).
    httpx.post(
        parties.b24_url + "/_sandbox/faults",
        json={"method": "crm.requisite.update", "count": 1000, "error": "ERROR_ARGUMENT", "status": 400},
    ).raise_for_status()
    try:
        parties.ports.onec.update("Catalog_Контрагенты", row["Ref_Key"], {"КодПоОКПО": "11111111"})
        first = parties.run()
        parties.ports.onec.update("Catalog_Контрагенты", row["Ref_Key"], {"КодПоОКПО": "22222222"})
        second = parties.run()
    finally:
        httpx.delete(parties.b24_url + "/_sandbox/faults").raise_for_status()

    key = f"1C#Catalog_Контрагенты#{row['Ref_Key']}"
    assert key in first.failures
    assert key in second.failures
    comments = parties.b24(
        "crm.timeline.comment.list", {"filter": {"ENTITY_ID": company["ID"], "ENTITY_TYPE": "company"}}
    )
    told = [c["COMMENT"] for c in comments if "не синхронизированы с 1С" in c["COMMENT"]]
    assert len(told) == 1
    assert "ERROR_ARGUMENT" in told[0] or "Injected fault" in told[0]
