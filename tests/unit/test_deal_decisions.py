"""Stage logic: which deal saves create, update, close or copy a 1C order — and which do nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.config.deal import DealMapping, StageRef
from bridge.deals.decisions import DealLinkState, OrderActionKind, OrderOutcome, order_action, short_products
from bridge.deals.snapshot import DealSnapshot, parse_deal_snapshot
from bridge.domain.stages import StageBook
from bridge.errors import ConfigurationError

FIXTURES = Path(__file__).parents[1] / "fixtures"


@cache
def _read(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def load(name: str) -> Any:
    """A fresh copy of a fixture each call, so tests may edit it."""
    return json.loads(_read(name))


STAGES = load("deals/stages.ru.json")
BOOK = StageBook.from_b24(STAGES["categories"], STAGES["statuses"])
MAPPING = DealMapping()
LINKED = DealLinkState(order_ref="6f1c2a8e-0b7d-11ef-9c3a-00155d0a1b01", fingerprint="abc")
PLENTY = {501: Decimal(1000), 502: Decimal(1000)}


def snapshot(stage_id: str = "UC_SALE", semantic: str | None = "P", category: str = "0") -> DealSnapshot:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["deal"].update({"STAGE_ID": stage_id, "STAGE_SEMANTIC_ID": semantic, "CATEGORY_ID": category})
    return parse_deal_snapshot(results, [])


def test_book_from_documented_lists() -> None:
    book = StageBook.from_b24(
        load("b24/crm.category.list.response.json")["result"],
        load("b24/crm.status.list.DEAL_STAGE.response.json")["result"]
        + load("b24/crm.status.list.DEAL_STAGE_10.response.json")["result"],
    )
    lead_route = book.funnel("Lead Route")
    assert lead_route.category_id == 10
    # truncated STATUS_ID is looked up, never built
    assert book.resolve(StageRef(funnel="Lead Route", stage="Approval")).status_id == "C10:PREPAYMENT_INVOIC"
    assert book.resolve(StageRef(funnel="general", stage="first")).status_id == "NEW"
    won, apology = book.stage("C10:WON"), book.stage("APOLOGY")
    assert won is not None
    assert won.semantics == "S"
    assert apology is not None
    assert apology.semantics == "F"  # APOLOGY is a failure stage like LOSE
    assert book.funnel("Funnel with Original Name").stages == ()


def test_configured_names_resolve_in_the_russian_portal() -> None:
    triggers = BOOK.trigger_stages(MAPPING)
    assert [t.status_id for t in triggers] == ["UC_SALE", "C1:NEW"]


def test_unknown_funnel_or_stage_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="Опт"):
        BOOK.funnel("Опт")
    with pytest.raises(ConfigurationError, match="Отгрузка"):
        BOOK.resolve(StageRef(funnel="Продажи", stage="Отгрузка"))


def test_creates_at_the_trigger_stage() -> None:
    action = order_action(snapshot(), None, BOOK, MAPPING, free_stock=PLENTY)
    assert action.kind is OrderActionKind.CREATE


def test_creates_at_a_later_working_stage_when_the_trigger_event_was_lost() -> None:
    action = order_action(snapshot("UC_FEEDBACK"), None, BOOK, MAPPING)
    assert action.kind is OrderActionKind.CREATE


def test_does_not_create_before_the_trigger_stage() -> None:
    action = order_action(snapshot("PREPARATION"), None, BOOK, MAPPING)
    assert action.kind is OrderActionKind.NOTHING
    assert "PREPARATION" in action.reason


def test_materials_funnel_first_stage_creates() -> None:
    action = order_action(snapshot("C1:NEW", category="1"), None, BOOK, MAPPING)
    assert action.kind is OrderActionKind.CREATE


def test_deal_created_mode_creates_on_any_save() -> None:
    mapping = DealMapping(create_order_on="deal_created")
    assert order_action(snapshot("NEW"), None, BOOK, mapping).kind is OrderActionKind.CREATE


def test_linked_deal_updates_only_when_the_fingerprint_changed() -> None:
    assert order_action(snapshot("NEW"), LINKED, BOOK, MAPPING).kind is OrderActionKind.UPDATE
    same = order_action(snapshot(), LINKED, BOOK, MAPPING, new_fingerprint="abc")
    assert same.kind is OrderActionKind.NOTHING
    changed = order_action(snapshot(), LINKED, BOOK, MAPPING, new_fingerprint="def")
    assert changed.kind is OrderActionKind.UPDATE


def test_won_completes_and_lost_cancels() -> None:
    assert order_action(snapshot("WON", "S"), LINKED, BOOK, MAPPING).kind is OrderActionKind.COMPLETE
    assert order_action(snapshot("C1:LOSE", "F", "1"), LINKED, BOOK, MAPPING).kind is OrderActionKind.CANCEL
    assert order_action(snapshot("APOLOGY", "F"), LINKED, BOOK, MAPPING).kind is OrderActionKind.CANCEL


def test_semantics_come_from_the_book_when_the_deal_lacks_them() -> None:
    assert order_action(snapshot("WON", None), LINKED, BOOK, MAPPING).kind is OrderActionKind.COMPLETE


def test_won_without_order_creates_nothing_but_is_reported() -> None:
    action = order_action(snapshot("WON", "S"), None, BOOK, MAPPING)
    assert action.kind is OrderActionKind.WON_WITHOUT_ORDER


def test_materials_funnel_edits_after_the_order_change_nothing_but_won_and_lost_close_it() -> None:
    assert order_action(snapshot("C1:NEW", "P", "1"), LINKED, BOOK, MAPPING).kind is OrderActionKind.NOTHING
    assert order_action(snapshot("C1:WON", "S", "1"), LINKED, BOOK, MAPPING).kind is OrderActionKind.COMPLETE
    assert order_action(snapshot("C1:LOSE", "F", "1"), LINKED, BOOK, MAPPING).kind is OrderActionKind.CANCEL
    exchanging = DealMapping(no_exchange_after_order_funnels=())
    assert order_action(snapshot("C1:NEW", "P", "1"), LINKED, BOOK, exchanging).kind is OrderActionKind.UPDATE
    # Not yet linked: the order is still created there (§2.2.4).
    assert order_action(snapshot("C1:NEW", "P", "1"), None, BOOK, MAPPING).kind is OrderActionKind.CREATE


def test_closed_order_is_never_reopened_by_a_deal_moved_back() -> None:
    completed = LINKED.model_copy(update={"outcome": OrderOutcome.COMPLETED})
    action = order_action(snapshot("UC_SALE"), completed, BOOK, MAPPING)
    assert action.kind is OrderActionKind.NOTHING
    assert "never reopened" in action.reason


def test_out_of_stock_copies_to_the_materials_funnel() -> None:
    stock = {501: Decimal(100), 502: Decimal(20)}  # 120 tiles asked, 100 free; services not counted
    action = order_action(snapshot(), None, BOOK, MAPPING, free_stock=stock)
    assert action.kind is OrderActionKind.COPY_TO_MATERIALS
    assert [(p.product_id, p.requested, p.free) for p in action.short_products] == [
        (501, Decimal(120), Decimal(100))
    ]
    assert (action.target_category_id, action.target_stage_id) == (1, "C1:NEW")


def test_out_of_stock_copies_once() -> None:
    copied = DealLinkState(materials_copy_deal_id=2048)
    action = order_action(snapshot(), copied, BOOK, MAPPING, free_stock={})
    assert action.kind is OrderActionKind.NOTHING
    assert "2048" in action.reason


def test_copy_can_be_switched_off() -> None:
    mapping = DealMapping(copy_out_of_stock_to_materials=False)
    assert order_action(snapshot(), None, BOOK, mapping, free_stock={}).kind is OrderActionKind.CREATE


def test_materials_funnel_deal_is_not_stock_checked() -> None:
    action = order_action(snapshot("C1:NEW", category="1"), None, BOOK, MAPPING, free_stock={})
    assert action.kind is OrderActionKind.CREATE


def test_same_product_in_two_rows_is_summed() -> None:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["rows"][1]["PRODUCT_ID"] = 501
    snap = parse_deal_snapshot(results, [])
    short = short_products(snap, {501: Decimal(130)})
    assert [(p.product_id, p.requested) for p in short] == [(501, Decimal(140))]


_stage_ids = st.sampled_from([s.status_id for f in BOOK.funnels for s in f.stages] + ["UNKNOWN"])
_links = st.one_of(
    st.none(),
    st.builds(
        DealLinkState,
        order_ref=st.one_of(st.none(), st.just(LINKED.order_ref)),
        fingerprint=st.one_of(st.none(), st.sampled_from(["abc", "def"])),
        outcome=st.sampled_from(list(OrderOutcome)),
        materials_copy_deal_id=st.one_of(st.none(), st.integers(1, 10_000)),
    ),
)
_mappings = st.builds(
    DealMapping,
    create_order_on=st.sampled_from(["trigger_stages", "deal_created"]),
    copy_out_of_stock_to_materials=st.booleans(),
)
_stock = st.one_of(
    st.none(), st.dictionaries(st.sampled_from([501, 502, 640]), st.decimals(0, 500, places=0))
)


@given(
    stage_id=_stage_ids,
    semantic=st.sampled_from(["S", "F"]),
    link=_links,
    mapping=_mappings,
    stock=_stock,
    fingerprint=st.one_of(st.none(), st.sampled_from(["abc", "def"])),
)
def test_won_or_lost_deal_never_creates_or_updates(
    stage_id: str,
    semantic: str,
    link: DealLinkState | None,
    mapping: DealMapping,
    stock: Any,
    fingerprint: str | None,
) -> None:
    action = order_action(
        snapshot(stage_id, semantic), link, BOOK, mapping, free_stock=stock, new_fingerprint=fingerprint
    )
    assert action.kind not in {
        OrderActionKind.CREATE,
        OrderActionKind.UPDATE,
        OrderActionKind.COPY_TO_MATERIALS,
    }


@given(stage_id=_stage_ids, semantic=st.sampled_from(["P", "S", "F", None]), mapping=_mappings, stock=_stock)
def test_closed_order_is_never_touched_again(
    stage_id: str, semantic: str | None, mapping: DealMapping, stock: Any
) -> None:
    for outcome in (OrderOutcome.COMPLETED, OrderOutcome.CANCELLED):
        link = LINKED.model_copy(update={"outcome": outcome})
        action = order_action(snapshot(stage_id, semantic), link, BOOK, mapping, free_stock=stock)
        assert action.kind is OrderActionKind.NOTHING
