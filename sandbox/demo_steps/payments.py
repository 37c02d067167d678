"""Payments walk for the demo: the deal step's order is paid in 1C, the poll runs, the deal shows it."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bridge.settings import load_mapping
from sandbox.demo_steps import deals
from sandbox.local.stack import LocalStack
from sandbox.world.payments import PaymentsWorld


def run(stack: LocalStack, say: Callable[[str], None]) -> None:
    """Continue the deal walk: pay the deal's order in 1C, run the poll, show the deal's stage and
    fields, then close the deal as won (order completed, shipment made)."""
    deal_id = deals.LAST_DEAL.get(stack.api_url)
    if deal_id is None:
        raise RuntimeError("the deal step made no deal to pay for")
    world = PaymentsWorld.of_stack(stack, load_mapping(None))
    order_ref = str(world.deal(deal_id)["UF_CRM_1C_ORDER_REF"])
    number = world.order_number(order_ref)
    payment = world.pay(order_ref, 600, comment="Оплата по счёту")
    say(f"1C       → bank receipt {payment} posted: 600.00 against order № {number}")
    answer = httpx.post(f"{stack.api_url}/_local/invoke/PaymentsPollFunction", json={}, timeout=120)
    say(f"poll     → HTTP {answer.status_code} {answer.text[:200]}")
    deal = world.deal(deal_id)
    stages = world.rest.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    stage_name = next((s["NAME"] for s in stages if s["STATUS_ID"] == deal["STAGE_ID"]), "")
    say(f"Bitrix24 → deal {deal_id} stage {deal['STAGE_ID']} «{stage_name}»")
    for code in ("UF_CRM_1C_PAY_DATE", "UF_CRM_1C_PAY_TYPE", "UF_CRM_1C_PAID", "UF_CRM_1C_PAY_METHOD"):
        say(f"Bitrix24 → {code} = {world.shown(deal_id, code)}")
    for code in ("UF_CRM_1C_PAY_COMMENT", "UF_CRM_1C_PAY_STATUS", "UF_CRM_1C_ORDER_SUM"):
        say(f"Bitrix24 → {code} = {world.shown(deal_id, code)}")
    responsible = int(deal["ASSIGNED_BY_ID"])
    for notice in world.notifications(responsible):
        say(f"Bitrix24 → notification to user {responsible} [{notice['tag']}]: {notice['message']}")
    for entry in world.registry_elements():
        say(f"Bitrix24 → «Реестр оплат»: {entry['NAME']}, {entry.get('Сумма')} ({entry.get('Состояние')})")
    deals.close_won(stack, say, deal_id)
