"""The payment rules (mappings.md §2): totals, status, type, method, mapped fields, stage moves;
and what one order's recompute sends to its deal: the batch as the manager would see its effects
(fields, the stage, a notice per payment, a registry entry per payment), under typed keys."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.b24.batching import as_command
from bridge.config.deal import DealMapping
from bridge.config.payments import PaymentFieldCodes, PaymentsMapping, RegistryOptions
from bridge.domain.onec_sets import CARD_OPERATIONS as CARD_SET
from bridge.domain.stages import StageBook
from bridge.payments.models import (
    AnnouncedPayment,
    DealFacts,
    OrderFacts,
    PaymentDoc,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
    PaymentType,
)
from bridge.payments.plan import DEAL_KEY, CommandKey, CommandKind, PaymentsPlan, plan_writes
from bridge.payments.resolved import ResolvedPayments
from bridge.payments.rules import forward_target, mapped_fields, status_for, summarize, type_for
from bridge.payments.state import OrderSyncState

ORDER = "11111111-1111-1111-1111-111111111111"
OTHER = "22222222-2222-2222-2222-222222222222"
ENUMS = {
    "pay_status": {"not_paid": "1", "partially_paid": "2", "paid": "3"},
    "pay_type": {"prepayment": "4", "full_payment": "5", "postpayment": "6"},
    "pay_method": {"non_cash": "7", "cash": "8"},
}


def order(amount: str = "1000") -> OrderFacts:
    return OrderFacts(
        ref=ORDER, number="00000000007", date=datetime(2024, 3, 1), amount=Decimal(amount), state_ref=None
    )


def payment(
    ref: int,
    amount: str,
    *,
    day: int = 5,
    posted: bool = True,
    kind: PaymentKind = PaymentKind.BANK,
    **extra: object,
) -> PaymentDoc:
    return PaymentDoc(
        ref=f"00000000-0000-0000-0000-{ref:012d}",
        kind=kind,
        number=f"{ref:011d}",
        date=datetime(2024, 3, day, 12),
        posted=posted,
        deletion_mark=bool(extra.get("deletion_mark", False)),
        operation=str(extra.get("operation", "ОтПокупателя")),
        comment=str(extra.get("comment", "")),
        purpose=str(extra.get("purpose", "")),
        amounts_by_order={ORDER: Decimal(amount), OTHER: Decimal("99")},
    )


def test_every_posted_unmarked_receipt_counts_unless_its_operation_is_excluded() -> None:
    summary = summarize(
        order(),
        [
            payment(1, "100"),
            payment(2, "200", posted=False),
            payment(3, "300", deletion_mark=True),
            payment(4, "400", operation="ВозвратОплатыПокупателю"),
            payment(5, "50", operation="ПрочееПоступление"),  # not excluded: it counts
            payment(6, "70", kind=PaymentKind.CARD, operation="ПоступлениеОплатыОтПокупателя"),
            payment(1, "100"),  # the same document twice counts once
        ],
        None,
        PaymentsMapping(),
    )
    assert summary.paid == Decimal("220")
    assert [p.ref[-1] for p in summary.counted] == ["1", "5", "6"]
    skipped = {p.ref[-1]: reason for p, reason in summary.skipped}
    assert skipped["3"] == "marked for deletion"
    assert "ВозвратОплатыПокупателю" in skipped["4"]
    assert "2" not in skipped  # not posted: not a receipt yet
    assert summary.method is PaymentMethod.NON_CASH  # the latest is a card payment


def test_a_card_row_names_its_order_by_a_single_typed_key() -> None:
    doc = PaymentDoc.from_onec(
        CARD_SET,
        {
            "Ref_Key": "00000000-0000-0000-0000-000000000009",
            "Posted": True,
            "ВидОперации": "ПоступлениеОплатыОтПокупателя",
            "РасшифровкаПлатежа": [
                {"Заказ_Key": ORDER, "СуммаПлатежа": 300, "ПризнакАванса": False},
                {"Заказ_Key": "00000000-0000-0000-0000-000000000000", "СуммаПлатежа": 5},
            ],
        },
    )
    assert doc.kind is PaymentKind.CARD
    assert doc.amounts_by_order == {ORDER: Decimal("300")}
    assert doc.advance_by_order == {ORDER: False}


def test_1c_advance_sign_decides_the_type_where_the_receipt_carries_it() -> None:
    shipped = datetime(2024, 3, 10)
    after = datetime(2024, 3, 11)
    total = Decimal("1000")
    kwargs = {"postpayment_after_shipment": True}
    # Not an advance: a payment for goods already shipped, whatever the dates say.
    assert type_for(Decimal("10"), total, None, None, advance=False, **kwargs) is PaymentType.POSTPAYMENT
    # An advance dated after a shipment (for the rest of the order) stays an advance.
    assert type_for(total, total, after, shipped, advance=True, **kwargs) is PaymentType.FULL_PAYMENT
    assert type_for(Decimal("10"), total, after, shipped, advance=True, **kwargs) is PaymentType.PREPAYMENT
    # Without the sign, the shipment rule.
    assert type_for(total, total, after, shipped, advance=None, **kwargs) is PaymentType.POSTPAYMENT


def test_the_advance_sign_can_be_switched_off() -> None:
    sign_false = PaymentDoc(
        ref="00000000-0000-0000-0000-000000000001",
        kind=PaymentKind.BANK,
        number="1",
        date=datetime(2024, 3, 5),
        posted=True,
        deletion_mark=False,
        operation="ОтПокупателя",
        comment="",
        purpose="",
        amounts_by_order={ORDER: Decimal("1000")},
        advance_by_order={ORDER: False},
    )
    assert summarize(order(), [sign_false], None, PaymentsMapping()).payment_type is PaymentType.POSTPAYMENT
    off = PaymentsMapping(use_advance_sign=False)
    assert summarize(order(), [sign_false], None, off).payment_type is PaymentType.FULL_PAYMENT


def test_latest_payment_gives_method_and_comment_falling_back_to_purpose() -> None:
    summary = summarize(
        order(),
        [
            payment(1, "100", day=9, comment="bank"),
            payment(2, "50", day=10, kind=PaymentKind.CASH, purpose="за болты"),
        ],
        None,
        PaymentsMapping(),
    )
    assert summary.method is not None
    assert summary.method.value == "cash"
    assert summary.comment == "за болты"


@pytest.mark.parametrize(
    ("paid", "expected"),
    [
        ("0", PaymentStatus.NOT_PAID),
        ("0.01", PaymentStatus.PARTIALLY_PAID),
        ("1000", PaymentStatus.PAID),
        ("1200", PaymentStatus.PAID),
    ],
)
def test_status(paid: str, expected: PaymentStatus) -> None:
    assert status_for(Decimal(paid), Decimal("1000")) is expected


def test_type_rules() -> None:
    shipped = datetime(2024, 3, 10)
    before, after = datetime(2024, 3, 9), datetime(2024, 3, 11)
    total = Decimal("1000")
    assert (
        type_for(Decimal("1000"), total, after, shipped, postpayment_after_shipment=True)
        is PaymentType.POSTPAYMENT
    )
    assert (
        type_for(Decimal("1000"), total, before, shipped, postpayment_after_shipment=True)
        is PaymentType.FULL_PAYMENT
    )
    assert (
        type_for(Decimal("10"), total, before, None, postpayment_after_shipment=True)
        is PaymentType.PREPAYMENT
    )
    assert (
        type_for(Decimal("10"), total, after, shipped, postpayment_after_shipment=False)
        is PaymentType.PREPAYMENT
    )
    assert type_for(Decimal("0"), total, None, None, postpayment_after_shipment=True) is None


def test_without_payments_only_amounts_and_status_are_written() -> None:
    codes = PaymentFieldCodes.of()
    fields = mapped_fields(summarize(order(), [], None, PaymentsMapping()), codes, ENUMS, "RUB")
    assert fields == {
        "UF_CRM_1C_PAID": "0.00|RUB",
        "UF_CRM_1C_ORDER_SUM": "1000.00|RUB",
        "UF_CRM_1C_PAY_STATUS": "1",
    }


@given(st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2), max_size=6))
def test_paid_is_the_sum_of_the_rows_and_status_follows(amounts: list[Decimal]) -> None:
    docs = [payment(i + 1, str(a)) for i, a in enumerate(amounts)]
    summary = summarize(order("1000"), docs, None, PaymentsMapping())
    assert summary.paid == sum(amounts, Decimal(0))
    assert summary.status is status_for(summary.paid, Decimal("1000"))


BOOK = StageBook.from_b24(
    {"categories": [{"id": 0, "name": "Продажи"}, {"id": 1, "name": "Заказ материала"}]},
    [
        {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "NEW", "NAME": "Новая", "SORT": 10},
        {
            "ENTITY_ID": "DEAL_STAGE",
            "STATUS_ID": "PREPAYMENT_INVOICE",
            "NAME": "Продажа материала",
            "SORT": 30,
        },
        {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "EXECUTING", "NAME": "Получение обратной связи", "SORT": 40},
        {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "WON", "NAME": "Успешная", "SORT": 50, "SEMANTICS": "S"},
        {"ENTITY_ID": "DEAL_STAGE_1", "STATUS_ID": "C1:NEW", "NAME": "Новая", "SORT": 10},
        {"ENTITY_ID": "DEAL_STAGE_1", "STATUS_ID": "C1:EXECUTING", "NAME": "Материал получен", "SORT": 30},
    ],
)


def deal(stage: str, category: int = 0) -> DealFacts:
    return DealFacts(id=5, title="t", category_id=category, stage_id=stage, assigned_by_id=3)


def target(stage: str, candidates: list[str | None]) -> str | None:
    found = forward_target(deal(stage), candidates, BOOK)
    return None if found is None else found.status_id


def test_stage_moves_forward_only_within_the_funnel() -> None:
    assert target("PREPAYMENT_INVOICE", ["EXECUTING"]) == "EXECUTING"
    assert target("EXECUTING", ["PREPAYMENT_INVOICE"]) is None  # never backwards
    assert target("WON", ["EXECUTING"]) is None  # never out of WON
    assert target("NEW", ["C1:EXECUTING"]) is None  # never into another funnel
    assert target("NEW", [None, "PREPAYMENT_INVOICE", "EXECUTING"]) == "EXECUTING"  # the furthest


# --- the deal's batch (payments/plan.py) ---------------------------------------------------------

PAID_STATE = "33333333-3333-3333-3333-333333333333"
RESOLVED = ResolvedPayments(
    enum_ids=ENUMS,
    stages=BOOK,
    feedback_stage={0: "EXECUTING"},
    state_stage={0: {PAID_STATE: "PREPAYMENT_INVOICE"}, 1: {PAID_STATE: "C1:EXECUTING"}},
    registry_list_id="42",
    registry_list_fields={"state": "PROPERTY_9"},
)
LIST = PaymentsMapping(registry=RegistryOptions(kind="list"))


def planned(
    payments: list[PaymentDoc],
    state: OrderSyncState | None = None,
    *,
    stage: str = "NEW",
    category: int = 0,
    order_state: str | None = None,
    options: PaymentsMapping = LIST,
) -> PaymentsPlan:
    order = OrderFacts(
        ref=ORDER, number="00000000007", date=None, amount=Decimal(1000), state_ref=order_state
    )
    summary = summarize(order, payments, None, options)
    deal = DealFacts(id=5, title="Плитка", category_id=category, stage_id=stage, assigned_by_id=3)
    return plan_writes(
        summary,
        deal,
        state or OrderSyncState(),
        RESOLVED,
        options,
        codes=PaymentFieldCodes.of(),
        portal_url="https://portal.example",
        deal_mapping=DealMapping(),
    )


def sent(result: PaymentsPlan, key: CommandKey) -> tuple[str, Mapping[str, Any]]:
    command = as_command(result.commands[key])
    return command.method, command.params


def test_a_full_payment_updates_the_deal_moves_it_tells_the_manager_and_registers_it() -> None:
    first = payment(1, "1000", kind=PaymentKind.CASH)
    result = planned([first])
    keys = set(result.commands)
    assert keys == {
        DEAL_KEY,
        CommandKey(CommandKind.NOTIFY, first.ref),
        CommandKey(CommandKind.REGISTRY, first.ref),
    }
    method, params = sent(result, DEAL_KEY)
    assert method == "crm.deal.update"
    assert params["fields"]["STAGE_ID"] == "EXECUTING"
    assert params["fields"]["UF_CRM_1C_PAY_METHOD"] == "8"  # a cash receipt is cash
    _, notice = sent(result, CommandKey(CommandKind.NOTIFY, first.ref))
    assert notice["USER_ID"] == 3
    assert "Поступила оплата 1 000.00 руб." in notice["MESSAGE"]
    _, element = sent(result, CommandKey(CommandKind.REGISTRY, first.ref))
    assert element["ELEMENT_CODE"] == first.ref


def test_batch_names_stay_the_wire_names_the_audit_lists() -> None:
    ref = payment(1, "10").ref
    assert DEAL_KEY.wire == "deal"
    assert CommandKey(CommandKind.NOTIFY, ref).wire == f"notify:{ref}"
    assert CommandKey(CommandKind.REGISTRY_UPDATE, ref).wire == f"registry-update:{ref}"


def test_nothing_new_sends_nothing() -> None:
    first = payment(1, "400")
    once = planned([first])
    state = OrderSyncState(
        fields_fingerprint=once.fields_fingerprint,
        announced={first.ref: AnnouncedPayment.of(first, Decimal(400))},
        registered=frozenset({first.ref}),
    )
    assert planned([first], state).commands == {}


def test_a_withdrawn_payment_is_told_and_its_list_element_marked_withdrawn() -> None:
    gone = payment(2, "300")
    written = {"NAME": "Оплата", "PROPERTY_9": "Проведена"}
    state = OrderSyncState(
        announced={gone.ref: AnnouncedPayment.of(gone, Decimal(300))},
        registered=frozenset({gone.ref}),
        listed={gone.ref: written},
    )
    result = planned([], state)
    _, notice = sent(result, CommandKey(CommandKind.WITHDRAWN, gone.ref))
    assert "отменена в 1С" in notice["MESSAGE"]
    _, update = sent(result, CommandKey(CommandKind.REGISTRY_UPDATE, gone.ref))
    assert update["FIELDS"]["PROPERTY_9"] == LIST.registry.withdrawn_text


def test_an_order_state_in_a_no_exchange_funnel_is_audited_not_applied() -> None:
    result = planned([], stage="C1:NEW", category=1, order_state=PAID_STATE)
    assert result.stage is None
    assert [r.audit for r in result.remarks] == ["StateNotApplied"]
    moved = planned([], order_state=PAID_STATE)
    assert moved.stage == "PREPAYMENT_INVOICE"
