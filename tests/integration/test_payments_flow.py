"""The payments flow end to end in-process: both emulators over HTTP, SyncTable on moto server."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from bridge.payments.poller import poll
from bridge.payments.push import PushBody, handle_push
from bridge.payments.recompute import PaymentsContext
from bridge.payments.resolved import resolved_config
from sandbox.serve import RunningServer
from sandbox.world.payments import PaymentsWorld, onec_time
from tests.harness.emulators import bizproc_payments_world

pytestmark = pytest.mark.integration

WRITES = ("crm.deal.update", "im.notify.system.add", "bizproc.workflow.start", "lists.element.add")


@pytest.fixture
def world(servers: tuple[RunningServer, RunningServer], sync_table: str, dynamodb) -> PaymentsWorld:  # type: ignore[no-untyped-def]
    return bizproc_payments_world(servers, sync_table, dynamodb)


def context(world: PaymentsWorld, *, onec_attempts: int = 4) -> PaymentsContext:
    ports = world.ports(onec_attempts=onec_attempts)
    return PaymentsContext(
        ports=ports,
        options=world.mapping.payments,
        resolved=resolved_config(ports.store),
        portal_url="https://portal.example",
    )


def linked_deal(world: PaymentsWorld, *, stage: str = "PREPAYMENT_INVOICE") -> tuple[int, str]:
    category = 1 if stage.startswith("C1:") else 0
    deal_id = world.new_deal("Поставка болтов", assigned=3, stage=stage, category=category)
    order_ref = world.new_order(quantity=100, price=12.5)  # sum 1250
    world.link(deal_id, order_ref)
    return deal_id, order_ref


def b24_writes(world: PaymentsWorld, since: int) -> list[str]:
    return [c["method"] for c in world.b24_calls(since) if c["method"] in WRITES]


def test_a_posted_payment_reaches_the_deal_with_stage_fields_notice_and_registry(
    world: PaymentsWorld,
) -> None:
    deal_id, order_ref = linked_deal(world)
    payment = world.pay(order_ref, 500, comment="Аванс", date=onec_time(minutes=-5))

    report = poll(context(world))

    assert report.failed == {}
    deal = world.deal(deal_id)
    assert deal["STAGE_ID"] == "EXECUTING"  # "Получение обратной связи" of the deal's funnel
    assert deal["UF_CRM_1C_PAID"] == "500.00|RUB"
    assert deal["UF_CRM_1C_ORDER_SUM"] == "1250.00|RUB"
    assert deal["UF_CRM_1C_PAY_COMMENT"] == "Аванс"
    assert deal["UF_CRM_1C_PAY_DATE"].startswith(onec_time(minutes=-5)[:10])
    notices = world.notifications(3)
    assert [n["tag"] for n in notices] == [f"1c-pay-{payment}"]
    assert "500.00 руб." in notices[0]["message"]
    assert "/crm/deal/details/" in notices[0]["message"]
    [workflow] = world.workflows()
    assert workflow["document_id"] == ["crm", "CCrmDocumentDeal", f"DEAL_{deal_id}"]
    assert workflow["parameters"]["PaymentAmount"] == "500.00"
    assert workflow["parameters"]["PaymentType"] == "Предоплата"


def test_a_second_poll_without_changes_writes_nothing_to_bitrix24(world: PaymentsWorld) -> None:
    _, order_ref = linked_deal(world)
    world.pay(order_ref, 500)
    ctx = context(world)
    poll(ctx)
    cursor = world.b24_cursor()

    poll(ctx)
    poll(ctx)

    assert world.b24_calls(cursor) == []


def test_push_then_poll_of_one_payment_notifies_once(world: PaymentsWorld) -> None:
    _, order_ref = linked_deal(world)
    payment = world.pay(order_ref, 1250)
    ctx = context(world)

    body = PushBody.model_validate({"type": "Document_ПоступлениеНаСчет", "ref": payment})
    handle_push(ctx, body)
    handle_push(ctx, body)
    poll(ctx)

    assert [n["tag"] for n in world.notifications(3)] == [f"1c-pay-{payment}"]
    assert len(world.workflows()) == 1


def test_unposting_recomputes_totals_and_tells_once_without_moving_the_stage_back(
    world: PaymentsWorld,
) -> None:
    deal_id, order_ref = linked_deal(world)
    first = world.pay(order_ref, 500, date=onec_time(minutes=-10))
    world.pay(order_ref, 750, cash=True, date=onec_time(minutes=-5))
    ctx = context(world)
    poll(ctx)
    paid = world.deal(deal_id)
    assert paid["UF_CRM_1C_PAID"] == "1250.00|RUB"

    world.unpost(first)
    poll(ctx)
    poll(ctx)

    deal = world.deal(deal_id)
    assert deal["UF_CRM_1C_PAID"] == "750.00|RUB"
    assert deal["UF_CRM_1C_PAY_STATUS"] != paid["UF_CRM_1C_PAY_STATUS"]  # paid → partially paid
    assert deal["STAGE_ID"] == "EXECUTING"
    withdrawn = [n for n in world.notifications(3) if n["tag"] == f"1c-pay-{first}-withdrawn"]
    assert len(withdrawn) == 1


def test_a_won_deal_keeps_its_stage_but_gets_the_fields(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world, stage="WON")
    world.pay(order_ref, 1250)

    poll(context(world))

    deal = world.deal(deal_id)
    assert deal["STAGE_ID"] == "WON"
    assert deal["UF_CRM_1C_PAID"] == "1250.00|RUB"


def test_a_state_change_moves_the_deal_within_its_own_funnel(world: PaymentsWorld) -> None:
    # «Заказ материала» keeps exchanging with 1C only when §2.2.8's default is switched off.
    deal = world.mapping.deal.model_copy(update={"no_exchange_after_order_funnels": ()})
    world.mapping = world.mapping.model_copy(update={"deal": deal})
    deal_id, order_ref = linked_deal(world, stage="C1:NEW")
    ctx = context(world)
    poll(ctx)
    assert world.deal(deal_id)["STAGE_ID"] == "C1:NEW"  # state "Новый" is not mapped
    world.set_state(order_ref, "В работе")

    poll(ctx)

    # "Заказ у поставщика" of the deal's own funnel "Заказ материала", not a stage of "Продажи"
    assert world.deal(deal_id)["STAGE_ID"] == "C1:PREPARATION"


def test_order_states_do_not_move_a_materials_funnel_deal_after_its_order(world: PaymentsWorld) -> None:
    # §2.2.8: once the order exists, «Заказ материала» works in Bitrix24 alone (except won).
    deal_id, order_ref = linked_deal(world, stage="C1:NEW")
    ctx = context(world)
    poll(ctx)
    world.set_state(order_ref, "В работе")  # mapped to «Заказ у поставщика» in that funnel

    poll(ctx)

    assert world.deal(deal_id)["STAGE_ID"] == "C1:NEW"
    day = datetime.now(UTC).date()
    skipped = [e for e in ctx.ports.store.audit.list(day) if e.subject == f"DEAL-{deal_id}"]
    assert "StateNotApplied" in [e.outcome for e in skipped]


def test_1c_down_during_a_run_loses_nothing(world: PaymentsWorld) -> None:
    deal_id, order_ref = linked_deal(world)
    world.pay(order_ref, 500)
    ctx = context(world, onec_attempts=1)
    # The listing works, then every read of the order fails: the run cannot finish the order.
    world.onec_sandbox(
        "faults", {"kind": "error", "count": 50, "path_prefix": "Document_ЗаказПокупателя(", "status": 500}
    )

    first = poll(ctx)

    assert first.failed
    assert world.deal(deal_id).get("UF_CRM_1C_PAID") in (None, "", False)
    world.onec_sandbox("faults", method="DELETE")

    poll(ctx)

    assert world.deal(deal_id)["UF_CRM_1C_PAID"] == "500.00|RUB"
    assert len(world.notifications(3)) == 1


def test_signature_is_the_hmac_of_timestamp_dot_raw_body() -> None:
    from datetime import UTC, datetime

    from bridge.payments.push import authentic, sign

    body = json.dumps(
        {"type": "Document_ЗаказПокупателя", "ref": "00000000-0000-0000-0000-000000000001"}
    ).encode()
    now = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    stamp = str(int(now.timestamp()))
    expected = "sha256=" + hmac.new(b"s3cret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", stamp, body) == expected
    headers = {"x-bridge-timestamp": stamp, "x-bridge-signature": expected}
    assert authentic("s3cret", body, headers, now)
    assert not authentic("s3cret", body + b" ", headers, now)
