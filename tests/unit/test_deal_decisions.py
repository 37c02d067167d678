"""Stage logic: which deal saves create, update, close or copy a 1C order — and which do nothing;
and the flow's plan as a manager would read it: a deal in this stage with this link → this happens
to its 1C order, and this is what the deal's timeline and the audit trail are told."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.config.deal import DealMapping, StageRef
from bridge.deals import plan as deal_plan
from bridge.deals.buyer import (
    CounterpartyCandidate,
    CounterpartyDecision,
    CounterpartyDecisionKind,
    buyer_party,
)
from bridge.deals.config import OneCRefs, OrderConfig
from bridge.deals.counterparty import BuyerResult
from bridge.deals.decisions import (
    DealLinkState,
    OrderActionKind,
    OrderOutcome,
    TriggerRule,
    order_action,
    short_products,
)
from bridge.deals.mapping import ProductRefs
from bridge.deals.plan import DealFacts, OrderPlan, Problem, buyer_problem, decide, plan_order
from bridge.deals.snapshot import DealSnapshot, parse_deal_snapshot
from bridge.domain.responsible import ResponsibleDecision, ResponsibleSource
from bridge.domain.stages import StageBook
from bridge.errors import ConfigurationError
from tests.harness.fixture_files import load

STAGES = load("deals/stages.ru.json")
BOOK = StageBook.from_b24(STAGES["categories"], STAGES["statuses"])
MAPPING = DealMapping()
LINKED = DealLinkState(order_ref="6f1c2a8e-0b7d-11ef-9c3a-00155d0a1b01", fingerprint="abc")
PLENTY = {501: Decimal(1000), 502: Decimal(1000)}


def snapshot(
    stage_id: str = "UC_SALE", semantic: str | None = "P", category: str = "0", **deal: Any
) -> DealSnapshot:
    results: dict[str, Any] = load("deals/batch.result.ru.json")
    results["deal"].update({"STAGE_ID": stage_id, "STAGE_SEMANTIC_ID": semantic, "CATEGORY_ID": category})
    results["deal"].update(deal)
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


# --- the flow's plan: decide, then plan the order once the buyer is known ----------------------------

UNLINKED = DealLinkState()
PRODUCTS = {
    501: ProductRefs("a0000501-0000-11ef-9c3a-00155d0a1b01"),
    502: ProductRefs("a0000502-0000-11ef-9c3a-00155d0a1b01"),
    640: ProductRefs("a0000640-0000-11ef-9c3a-00155d0a1b01"),
}


def ref(n: int) -> str:
    """A 1C Ref_Key for the catalogs these tests only point at."""
    return f"0b{n:06d}-0000-11ef-9c3a-00155d0a1b01"


CONFIG = OrderConfig(
    refs=OneCRefs(
        organization=ref(1),
        initial_state=ref(2),
        completed_state=ref(3),
        cancelled_state=ref(4),
        deal_id_property=ref(5),
    )
)
COUNTERPARTY = "c0000077-0000-11ef-9c3a-00155d0a1b01"
MANAGER = "e0000015-0000-11ef-9c3a-00155d0a1b01"
THEIR_MANAGER = "e0000099-0000-11ef-9c3a-00155d0a1b01"


def facts(
    snap: DealSnapshot | None = None,
    link: DealLinkState = UNLINKED,
    *,
    products: dict[int, ProductRefs] = PRODUCTS,
    stock: dict[int, Decimal] | None = PLENTY,
    buyer: bool = True,
) -> DealFacts:
    snap = snap or snapshot()
    party = buyer_party(snap) if buyer else None
    return DealFacts(snapshot=snap, link=link, party=party, products=products, free_stock=stock)


def plan_for(f: DealFacts, mapping: DealMapping = MAPPING) -> Any:
    return decide(f, BOOK, mapping)


def found(
    responsible: str | None = None, kind: CounterpartyDecisionKind = CounterpartyDecisionKind.USE_LINKED
) -> BuyerResult:
    candidate = CounterpartyCandidate(ref=COUNTERPARTY, description="ООО «Ромашка»", responsible=responsible)
    return BuyerResult(decision=CounterpartyDecision(kind=kind, counterparty=candidate))


# --- decide ----------------------------------------------------------------------------------------


def test_deal_at_the_trigger_stage_without_an_order_creates_one() -> None:
    plan = plan_for(facts())
    assert plan.action.kind is OrderActionKind.CREATE
    assert plan.writes
    assert plan.problem is None


def test_linked_working_deal_updates_its_order() -> None:
    plan = plan_for(facts(snapshot("UC_FEEDBACK"), LINKED, stock=None))
    assert plan.action.kind is OrderActionKind.UPDATE
    assert plan.writes


def test_won_deal_closes_its_order_as_completed_and_lost_as_cancelled() -> None:
    won = plan_for(facts(snapshot("WON", "S"), LINKED, stock=None))
    lost = plan_for(facts(snapshot("LOSE", "F"), LINKED, stock=None))
    assert (won.action.kind, won.action.outcome) == (OrderActionKind.COMPLETE, OrderOutcome.COMPLETED)
    assert (lost.action.kind, lost.action.outcome) == (OrderActionKind.CANCEL, OrderOutcome.CANCELLED)
    assert not won.writes
    assert won.problem is None


def test_won_deal_without_an_order_is_reported_on_its_timeline() -> None:
    plan = plan_for(facts(snapshot("WON", "S"), stock=None))
    assert plan.problem is not None
    assert (plan.problem.kind, plan.problem.channel) == ("WonWithoutOrder", "won")
    assert plan.note == "reported: the deal is won but has no 1C order"


def test_won_deal_whose_copy_carries_the_order_is_only_audited() -> None:
    plan = plan_for(facts(snapshot("WON", "S"), DealLinkState(materials_copy_deal_id=2048), stock=None))
    assert plan.problem is None
    assert plan.audit is not None
    assert (plan.audit.kind, plan.audit.detail) == ("WonWithoutOrder", {"copy": 2048})
    assert "2048" in plan.note


def test_deal_before_the_trigger_stage_does_nothing_and_says_why() -> None:
    plan = plan_for(facts(snapshot("PREPARATION"), stock=None))
    assert plan.action.kind is OrderActionKind.NOTHING
    assert plan.note == "nothing: stage 'PREPARATION' is not a trigger stage"
    assert plan.problem is None
    assert plan.audit is None


def test_deal_without_company_or_contact_is_told_so_and_gets_no_order() -> None:
    plan = plan_for(facts(buyer=False))
    assert plan.problem is not None
    assert plan.problem.kind == "NoBuyer"
    assert "нет ни компании, ни контакта" in plan.problem.text
    assert not plan.writes


def test_linked_deal_that_lost_its_buyer_keeps_its_order() -> None:
    plan = plan_for(facts(snapshot("UC_FEEDBACK"), LINKED, buyer=False, stock=None))
    assert plan.action.kind is OrderActionKind.NOTHING
    assert plan.problem is None
    assert plan.note == "nothing: the deal lost its buyer; the order keeps its counterparty"


def test_unmatched_products_are_named_on_the_timeline() -> None:
    plan = plan_for(facts(products={501: PRODUCTS[501]}, stock=None))
    assert plan.problem is not None
    assert plan.problem.kind == "UnmatchedProducts"
    assert plan.problem.detail == {"products": ["Бордюр садовый 1000×200×80", "Доставка манипулятором"]}
    assert plan.note.startswith("not created: no 1C nomenclature for Бордюр")


def test_out_of_stock_deal_is_copied_to_the_materials_funnel() -> None:
    plan = plan_for(facts(stock={501: Decimal(100), 502: Decimal(20)}))
    assert plan.action.kind is OrderActionKind.COPY_TO_MATERIALS
    assert [p.product_id for p in plan.action.short_products] == [501]
    assert plan.writes


def test_no_exchange_funnel_edit_is_audited_not_written() -> None:
    plan = plan_for(facts(snapshot("C1:NEW", category="1"), LINKED, stock=None))
    assert plan.action.kind is OrderActionKind.NOTHING
    assert plan.audit is not None
    assert plan.audit.kind == "NotExchanged"


def test_closed_order_is_left_alone() -> None:
    closed = LINKED.model_copy(update={"outcome": OrderOutcome.COMPLETED})
    plan = plan_for(facts(snapshot("UC_SALE"), closed))
    assert plan.action.kind is OrderActionKind.NOTHING
    assert "never reopened" in plan.note


# --- the trigger rule, shared by the flow and the sweep -------------------------------------------


def test_trigger_rule_creates_from_the_trigger_stage_on_and_checks_stock_only_there() -> None:
    rule = TriggerRule(BOOK, MAPPING)
    assert not rule.may_create(snapshot("PREPARATION").deal)
    assert rule.may_create(snapshot("UC_SALE").deal)
    assert rule.may_create(snapshot("UC_FEEDBACK").deal)
    assert rule.checks_stock(snapshot("UC_SALE").deal)
    assert not rule.checks_stock(snapshot("UC_FEEDBACK").deal)
    assert not rule.may_create(snapshot("WON", "S").deal)


def test_trigger_rule_in_deal_created_mode_creates_on_any_working_stage() -> None:
    rule = TriggerRule(BOOK, DealMapping(create_order_on="deal_created"))
    assert rule.may_create(snapshot("NEW").deal)
    assert not rule.may_create(snapshot("LOSE", "F").deal)


@given(
    stage_id=_stage_ids,
    semantic=st.sampled_from(["P", "S", "F", None]),
    link=_links,
    mapping=_mappings,
    buyer=st.booleans(),
    matched=st.sets(st.sampled_from([501, 502, 640])),
)
def test_an_order_is_written_only_with_a_buyer_and_every_product_matched(
    stage_id: str,
    semantic: str | None,
    link: DealLinkState | None,
    mapping: DealMapping,
    buyer: bool,
    matched: set[int],
) -> None:
    products = {pid: refs for pid, refs in PRODUCTS.items() if pid in matched}
    plan = plan_for(
        facts(snapshot(stage_id, semantic), link or UNLINKED, products=products, buyer=buyer), mapping
    )
    if plan.writes:
        assert buyer
        assert matched == {501, 502, 640}
    # Whatever is not written is said: a problem, an audit item or a note.
    assert plan.writes or plan.problem is not None or plan.note or plan.action.outcome is not None


@given(stage_id=_stage_ids, semantic=st.sampled_from(["P", "S", "F", None]), mapping=_mappings)
def test_the_sweep_queues_exactly_the_unlinked_deals_the_flow_would_create_an_order_for(
    stage_id: str, semantic: str | None, mapping: DealMapping
) -> None:
    snap = snapshot(stage_id, semantic)
    plan = plan_for(facts(snap, stock=None), mapping)
    assert TriggerRule(BOOK, mapping).may_create(snap.deal) == (plan.action.kind is OrderActionKind.CREATE)


# --- after the buyer -------------------------------------------------------------------------------


def test_ambiguous_counterparty_stops_the_order_with_the_candidates_named() -> None:
    snap = snapshot()
    party = buyer_party(snap)
    assert party is not None
    candidates = (
        CounterpartyCandidate(ref=COUNTERPARTY, description="ООО «Ромашка»", inn="7701000001"),
        CounterpartyCandidate(ref=THEIR_MANAGER, description="ООО «Ромашка»", inn="7701000002"),
    )
    ambiguous = BuyerResult(
        decision=CounterpartyDecision(kind=CounterpartyDecisionKind.AMBIGUOUS, candidates=candidates)
    )
    problem = buyer_problem(party, ambiguous)
    assert problem is not None
    assert problem.kind == "AmbiguousCounterparty"
    assert "7701000001" in problem.text
    assert "7701000002" in problem.text
    assert buyer_problem(party, found()) is None


def test_existing_counterparty_keeps_its_manager_and_a_new_one_follows_the_deal() -> None:
    existing = found(THEIR_MANAGER)
    assert deal_plan.responsible_rule(1024, existing, {}) == deal_plan.FOLLOW_COUNTERPARTY
    assert deal_plan.counterparty_manager(existing, deal_plan.FOLLOW_COUNTERPARTY) == THEIR_MANAGER
    created = BuyerResult(decision=existing.decision, created=True)
    assert deal_plan.responsible_rule(1024, created, {}) == deal_plan.FOLLOW_DEAL
    assert deal_plan.counterparty_manager(created, deal_plan.FOLLOW_DEAL) is None
    # Decided once per counterparty: what the link keeps wins on later updates.
    kept = {deal_plan.RULE: deal_plan.FOLLOW_DEAL, deal_plan.RULE_COUNTERPARTY: COUNTERPARTY}
    assert deal_plan.responsible_rule(1024, existing, kept) == deal_plan.FOLLOW_DEAL


def test_order_plan_carries_draft_fingerprint_rule_and_the_default_employee_notice() -> None:
    snap = snapshot(OPPORTUNITY="56600.00")  # the rows' total: no amount notice
    responsible = ResponsibleDecision(ref=MANAGER, source=ResponsibleSource.DEFAULT, warning=True)
    plan = plan_order(snap, found(), deal_plan.FOLLOW_DEAL, responsible, PRODUCTS, CONFIG, None)
    assert isinstance(plan, OrderPlan)
    assert plan.draft.body["Контрагент_Key"] == COUNTERPARTY
    assert plan.link_extra == {
        deal_plan.RULE: deal_plan.FOLLOW_DEAL,
        deal_plan.RULE_COUNTERPARTY: COUNTERPARTY,
    }
    assert [n.kind for n in plan.notices] == ["DefaultResponsible"]
    assert not plan.unchanged(LINKED)
    assert plan.unchanged(LINKED.model_copy(update={"fingerprint": plan.fingerprint}))
    again = plan_order(snap, found(), deal_plan.FOLLOW_DEAL, responsible, PRODUCTS, CONFIG, None)
    assert isinstance(again, OrderPlan)
    assert again.fingerprint == plan.fingerprint


def test_order_plan_tells_when_the_amount_differs_from_the_rows() -> None:
    snap = snapshot(OPPORTUNITY="54600.00", IS_MANUAL_OPPORTUNITY="Y")
    responsible = ResponsibleDecision(ref=MANAGER, source=ResponsibleSource.EMAIL)
    plan = plan_order(snap, found(), deal_plan.FOLLOW_DEAL, responsible, PRODUCTS, CONFIG, None)
    assert isinstance(plan, OrderPlan)
    assert [n.kind for n in plan.notices] == ["AmountDiffers"]


def test_no_employee_at_all_stops_the_order() -> None:
    nobody = ResponsibleDecision(ref=None, source=ResponsibleSource.NONE)
    problem = plan_order(snapshot(), found(), deal_plan.FOLLOW_DEAL, nobody, PRODUCTS, CONFIG, None)
    assert isinstance(problem, Problem)
    assert problem.kind == "NoResponsible"
