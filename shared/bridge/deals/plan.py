"""Decide, then execute: what one deal event does, as data the flow carries out.

`decide` takes what the flow read (the deal, its link, its buyer, its matched products, the free
stock when the rule asks for it) and returns a `DealPlan`: the order action, decided once, and
what to report instead of writing (timeline comment + audit) or beside it (audit only). Finding
or creating the buyer in 1C is the one write that must come before the order, so the second half
is a separate pure step: `plan_order` turns the buyer outcome into the order to write (responsible,
draft, fingerprint, the notices that accompany it), or into the problem that stops it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.config.deal import DealMapping
from bridge.deals.buyer import BuyerParty, CounterpartyDecisionKind
from bridge.deals.config import OrderConfig
from bridge.deals.counterparty import BuyerResult
from bridge.deals.decisions import (
    NO_EXCHANGE_REASON,
    DealLinkState,
    OrderAction,
    OrderActionKind,
    order_action,
)
from bridge.deals.mapping import (
    OrderDraft,
    ProductRefs,
    Unmatched,
    amount_mismatch,
    build_order,
    mapped_fingerprint_input,
)
from bridge.deals.snapshot import DealSnapshot
from bridge.deals.writeback import (
    ambiguous_counterparty_text,
    amount_mismatch_text,
    no_responsible_text,
    responsible_warning_text,
    unmatched_products_text,
    won_without_order_text,
)
from bridge.domain.fingerprint import fingerprint
from bridge.domain.responsible import ResponsibleDecision
from bridge.domain.stages import StageBook
from bridge.errors import PermanentError

# On the deal's link: whose manager the order follows, decided once per counterparty (§2.6.1).
RULE = "responsible"
RULE_COUNTERPARTY = "responsible_counterparty"
# On the deal's link: the hash of everything Bitrix24 and the configuration gave the last order
# written (or found unchanged), so the echo of our own write-back is recognised without 1C.
SOURCE = "source"
FOLLOW_COUNTERPARTY = "counterparty"  # the counterparty existed in 1C before this deal linked it
FOLLOW_DEAL = "deal"  # created for this deal: the order follows the deal's ASSIGNED_BY_ID

_WRITES = (OrderActionKind.CREATE, OrderActionKind.UPDATE, OrderActionKind.COPY_TO_MATERIALS)


class Problem(BaseModel):
    """Something a person must hear of: a timeline comment on the deal, an audit item, a metric."""

    model_config = ConfigDict(frozen=True)
    kind: str
    text: str
    detail: dict[str, Any] = {}
    channel: str | None = None  # None: the deal's "last problem"; else its own once-per-text memory
    log_message: str = "deal not synced"
    summary: str = ""  # for the run's note: why the order was not written


class AuditNote(BaseModel):
    """Something only the audit trail keeps (nobody has to act)."""

    model_config = ConfigDict(frozen=True)
    kind: str
    detail: dict[str, Any]


class DealFacts(BaseModel):
    """What the flow read before deciding."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    snapshot: DealSnapshot
    link: DealLinkState
    party: BuyerParty | None
    # Matched only when the order may be written and the deal has a buyer; ids absent = no match.
    products: Mapping[int, ProductRefs] = {}
    free_stock: Mapping[int, Decimal] | None = None  # None: not checked


class DealPlan(BaseModel):
    model_config = ConfigDict(frozen=True)
    action: OrderAction
    problem: Problem | None = None  # reported instead of writing anything
    audit: AuditNote | None = None
    note: str = ""  # what happened, when nothing is written

    @property
    def writes(self) -> bool:
        return self.problem is None and self.action.kind in _WRITES


def missing_products(snapshot: DealSnapshot, products: Mapping[int, ProductRefs]) -> tuple[str, ...]:
    missing = [
        row.product_name.strip() or f"товар #{row.product_id}"
        for row in snapshot.ordered_rows
        if not row.product_id or row.product_id not in products
    ]
    return tuple(dict.fromkeys(missing))


def decide(facts: DealFacts, book: StageBook, mapping: DealMapping) -> DealPlan:
    """The order action for the deal's state, and what stops it or goes beside it."""
    action = order_action(facts.snapshot, facts.link, book, mapping, free_stock=facts.free_stock)
    deal = facts.snapshot.deal
    if action.kind is OrderActionKind.NOTHING:
        audit = AuditNote(kind="NotExchanged", detail={"reason": action.reason})
        no_exchange = facts.link.linked and action.reason == NO_EXCHANGE_REASON
        return DealPlan(action=action, audit=audit if no_exchange else None, note=f"nothing: {action.reason}")
    if action.kind is OrderActionKind.WON_WITHOUT_ORDER:
        copy_id = facts.link.materials_copy_deal_id
        if copy_id:
            # The order belongs to the copy in the materials funnel; that deal closes it.
            return DealPlan(
                action=action,
                audit=AuditNote(kind="WonWithoutOrder", detail={"copy": copy_id}),
                note=f"nothing: the deal is won; its order belongs to the copy, deal {copy_id}",
            )
        problem = Problem(
            kind="WonWithoutOrder",
            text=won_without_order_text(),
            detail={"stage": deal.stage_id},
            channel="won",
            log_message="won deal has no 1C order",
        )
        return DealPlan(action=action, problem=problem, note="reported: the deal is won but has no 1C order")
    if action.kind not in _WRITES:
        return DealPlan(action=action)
    if facts.party is None:
        if action.kind is OrderActionKind.UPDATE:
            lost = OrderAction(
                kind=OrderActionKind.NOTHING,
                reason="the deal lost its buyer; the order keeps its counterparty",
            )
            return DealPlan(action=lost, note=f"nothing: {lost.reason}")
        text = (
            "Заказ в 1С не создан: у сделки нет ни компании, ни контакта. Укажите клиента и сохраните сделку."
        )
        problem = Problem(kind="NoBuyer", text=text)
        return DealPlan(
            action=action, problem=problem, note="not created: the deal has no company or contact"
        )
    names = missing_products(facts.snapshot, facts.products)
    if names:
        problem = Problem(
            kind="UnmatchedProducts", text=unmatched_products_text(names), detail={"products": list(names)}
        )
        return DealPlan(
            action=action, problem=problem, note=f"not created: no 1C nomenclature for {', '.join(names)}"
        )
    return DealPlan(action=action)


# --- after the buyer -----------------------------------------------------------------------------


def buyer_problem(party: BuyerParty, buyer: BuyerResult) -> Problem | None:
    if buyer.decision.kind is not CounterpartyDecisionKind.AMBIGUOUS:
        return None
    text = ambiguous_counterparty_text(party.name, buyer.decision.candidates)
    return Problem(
        kind="AmbiguousCounterparty",
        text=text,
        detail={"party": party.name},
        summary="ambiguous counterparty",
    )


def responsible_rule(deal_id: int, buyer: BuyerResult, kept: Mapping[str, str]) -> str:
    """§2.6.1, decided once per (deal, counterparty) and kept on the deal's link (`kept`): the
    counterparty's manager only when the counterparty existed in 1C before this deal linked it;
    otherwise the order follows the deal's responsible, on create and on every update."""
    counterparty = buyer.decision.ref or ""
    if kept.get(RULE_COUNTERPARTY) == counterparty:
        rule = kept.get(RULE)
        if rule in (FOLLOW_COUNTERPARTY, FOLLOW_DEAL):
            return rule
    return FOLLOW_DEAL if buyer.created_by(deal_id) else FOLLOW_COUNTERPARTY


def counterparty_manager(buyer: BuyerResult, rule: str) -> str | None:
    """The counterparty's own manager when the rule says the order follows it (None: the deal's
    responsible mapped to 1C decides)."""
    return buyer.decision.responsible_ref if rule == FOLLOW_COUNTERPARTY else None


class OrderPlan(BaseModel):
    model_config = ConfigDict(frozen=True)
    draft: OrderDraft
    fingerprint: str
    link_extra: dict[str, str]  # the responsible rule, kept on the deal's link
    notices: tuple[Problem, ...]  # told once the order is written

    def unchanged(self, link: DealLinkState) -> bool:
        return self.fingerprint == link.fingerprint


# What our own write-back changes on the deal (and nothing the order is built from).
_VOLATILE_DEAL_FIELDS = frozenset({"date_modify", "user_fields"})


def source_fingerprint(
    snapshot: DealSnapshot,
    products: Mapping[int, ProductRefs],
    config: OrderConfig,
    managers: Mapping[str, str],
    amount_item: ProductRefs | None,
) -> str:
    """A hash of every input of the order that does not come from 1C: the deal (without what our
    write-back sets on it), its rows, buyer, contact, requisites and responsible user, the matched
    products and the configuration. Equal hashes mean Bitrix24 gave nothing new to write."""
    return fingerprint(
        {
            "deal": snapshot.deal.model_dump(mode="json", exclude=set(_VOLATILE_DEAL_FIELDS)),
            "rows": [row.model_dump(mode="json") for row in snapshot.ordered_rows],
            "company": snapshot.company.model_dump(mode="json") if snapshot.company else None,
            "contact": snapshot.contact.model_dump(mode="json") if snapshot.contact else None,
            "company_requisite": _dump(snapshot.company_requisite),
            "contact_requisite": _dump(snapshot.contact_requisite),
            "user": _dump(snapshot.assigned_user),
            "products": {str(pid): list(refs) for pid, refs in sorted(products.items())},
            "config": config.model_dump(mode="json"),
            "managers": dict(managers),
            "amount_item": list(amount_item) if amount_item is not None else None,
        }
    )


def _dump(model: BaseModel | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


def plan_order(
    snapshot: DealSnapshot,
    buyer: BuyerResult,
    rule: str,
    responsible: ResponsibleDecision,
    products: Mapping[int, ProductRefs],
    config: OrderConfig,
    amount_item: ProductRefs | None,
) -> OrderPlan | Problem:
    """The order to write for a resolved buyer and responsible, or the problem that stops it."""
    deal = snapshot.deal
    if responsible.ref is None:
        # No employee at all (no match and no default employee resolved): the order is not written.
        return Problem(
            kind="NoResponsible",
            text=no_responsible_text(snapshot.assigned_user, deal.assigned_by_id),
            detail={"assigned_by_id": deal.assigned_by_id},
            summary="no 1C employee for the responsible and no default employee (run setup)",
        )
    counterparty = buyer.decision.counterparty
    if counterparty is None:
        raise PermanentError("no counterparty decided")
    draft = build_order(
        snapshot, counterparty.ref, responsible.ref, dict(products), config, amount_item=amount_item
    )
    if isinstance(draft, Unmatched):
        raise PermanentError(f"no 1C nomenclature for {', '.join(draft.products)}")
    return OrderPlan(
        draft=draft,
        fingerprint=fingerprint(mapped_fingerprint_input(draft)),
        link_extra={RULE: rule, RULE_COUNTERPARTY: buyer.decision.ref or ""},
        notices=_notices(snapshot, responsible),
    )


def _notices(snapshot: DealSnapshot, responsible: ResponsibleDecision) -> tuple[Problem, ...]:
    """What a person should know about an order just written: the default employee stood in
    (§2.6.1), the deal's amount differs from its rows (§2.1.1.11). Each text once per deal."""
    deal = snapshot.deal
    notices: list[Problem] = []
    if responsible.warning:
        notices.append(
            Problem(
                kind="DefaultResponsible",
                text=responsible_warning_text(snapshot.assigned_user, deal.assigned_by_id, True),
                detail={"assigned_by_id": deal.assigned_by_id, "employee": responsible.ref},
                channel="responsible",
                log_message="order written with the default employee",
            )
        )
    mismatch = amount_mismatch(snapshot)
    if mismatch is not None:
        amount, total = mismatch
        notices.append(
            Problem(
                kind="AmountDiffers",
                text=amount_mismatch_text(amount, total),
                detail={"opportunity": str(amount), "rows_total": str(total)},
                channel="amount",
                log_message="deal amount differs from its product rows",
            )
        )
    return tuple(notices)
