"""What one deal event means for its 1C order: create, update, complete, cancel, copy, or nothing.

The rules (§2.1, §2.2, §2.6.1–2.6.2, mappings.md §1):
- create only at a configured trigger stage (or any later working stage of that funnel, so a lost
  event is caught by the next one), or on any save when `create_order_on = "deal_created"`;
- update when linked and the mapped fingerprint differs;
- WON → complete the order (and make its shipment), LOSE → cancel it; an order once closed is
  never reopened, and a closed deal never creates or updates one; WON without an order is
  reported (§2.1.1.17), not silently skipped;
- §2.2.8: in a funnel of `no_exchange_after_order_funnels`, edits after the order exists change
  nothing in 1C (won and lost still close the order);
- out of stock (§2.1.1.5): a main-funnel deal at a trigger stage whose rows ask for more than the
  free stock is copied into the materials funnel instead of creating an order.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bridge.config.deal import DealMapping
from bridge.deals.models import Deal
from bridge.deals.snapshot import DealSnapshot
from bridge.domain.stages import Semantics, StageBook


class OrderOutcome(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DealLinkState(BaseModel):
    """What the link store knows about the deal's 1C side (None of it = never synced)."""

    model_config = ConfigDict(frozen=True)
    order_ref: str | None = None
    fingerprint: str | None = None
    outcome: OrderOutcome = OrderOutcome.OPEN
    materials_copy_deal_id: int | None = None  # the copy made in the materials funnel, if any

    @property
    def linked(self) -> bool:
        return self.order_ref is not None


class OrderActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    COMPLETE = "complete"
    CANCEL = "cancel"
    NOTHING = "nothing"
    COPY_TO_MATERIALS = "copy_to_materials_funnel"
    WON_WITHOUT_ORDER = "won_without_order"  # nothing to close in 1C: a person must hear of it


class ShortProduct(BaseModel):
    model_config = ConfigDict(frozen=True)
    product_id: int
    name: str
    requested: Decimal
    free: Decimal


class OrderAction(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: OrderActionKind
    reason: str = ""
    short_products: tuple[ShortProduct, ...] = ()
    target_category_id: int | None = None  # copy: the materials funnel
    target_stage_id: str | None = None  # copy: its first working stage
    outcome: OrderOutcome | None = None  # complete / cancel: what the closed order becomes


NO_EXCHANGE_REASON = "§2.2.8: once its order exists, this funnel works without exchange with 1C"


def _nothing(reason: str) -> OrderAction:
    return OrderAction(kind=OrderActionKind.NOTHING, reason=reason)


def _close(outcome: OrderOutcome, reason: str) -> OrderAction:
    kind = OrderActionKind.COMPLETE if outcome is OrderOutcome.COMPLETED else OrderActionKind.CANCEL
    return OrderAction(kind=kind, reason=reason, outcome=outcome)


class TriggerRule:
    """Where a deal's order may be created (§2.1, §2.2): the one rule the flow's decision, its
    reads and the sweep share."""

    def __init__(self, book: StageBook, mapping: DealMapping) -> None:
        self.book = book
        self.mapping = mapping

    def semantics(self, deal: Deal) -> Semantics:
        """STAGE_SEMANTIC_ID as read, else the stage's semantics from the book, else in progress."""
        if deal.stage_semantic_id is not None:
            return deal.stage_semantic_id
        stage = self.book.stage(deal.stage_id)
        return stage.semantics if stage else "P"

    def may_create(self, deal: Deal) -> bool:
        """A working deal at a trigger stage or any later working stage of its funnel (so a lost
        event is caught by the next one); any working deal when `create_order_on = "deal_created"`."""
        if self.semantics(deal) != "P":
            return False
        if self.mapping.create_order_on == "deal_created":
            return True
        stage = self.book.stage(deal.stage_id)
        if stage is None or stage.semantics != "P":
            return False
        return any(
            t.category_id == stage.category_id and stage.sort >= t.sort
            for t in self.book.trigger_stages(self.mapping)
        )

    def checks_stock(self, deal: Deal) -> bool:
        """§2.1.1.5: out-of-stock copying is on and the deal stands at a main-funnel trigger stage."""
        if not self.mapping.copy_out_of_stock_to_materials:
            return False
        stage = self.book.stage(deal.stage_id)
        main = self.book.funnel(self.mapping.main_funnel)
        return stage is not None and any(
            t.category_id == main.category_id and t.status_id == stage.status_id
            for t in self.book.trigger_stages(self.mapping)
        )

    def writes_order(self, deal: Deal, link: DealLinkState) -> bool:
        """Whether this save may create or update the order, before its products and stock are
        known: the flow reads those only then."""
        if link.outcome is not OrderOutcome.OPEN and link.linked:
            return False
        if link.linked:
            return self.semantics(deal) == "P" and not self.book.no_exchange_after_order(
                deal.category_id, self.mapping
            )
        return self.may_create(deal)


def short_products(snapshot: DealSnapshot, free_stock: Mapping[int, Decimal]) -> tuple[ShortProduct, ...]:
    """Catalog goods whose requested quantity (summed over rows) exceeds the free stock; a product
    absent from `free_stock` has none. Services and free-text rows have no stock."""
    requested: dict[int, Decimal] = {}
    names: dict[int, str] = {}
    for row in snapshot.ordered_rows:
        if row.product_id == 0 or row.is_service:
            continue
        requested[row.product_id] = requested.get(row.product_id, Decimal(0)) + row.quantity
        names.setdefault(row.product_id, row.product_name)
    return tuple(
        ShortProduct(product_id=pid, name=names[pid], requested=qty, free=free_stock.get(pid, Decimal(0)))
        for pid, qty in requested.items()
        if qty > free_stock.get(pid, Decimal(0))
    )


def order_action(
    snapshot: DealSnapshot,
    link: DealLinkState | None,
    stage_book: StageBook,
    deal_mapping: DealMapping,
    *,
    free_stock: Mapping[int, Decimal] | None = None,
    new_fingerprint: str | None = None,
) -> OrderAction:
    """Decide the order action for the deal's current state.

    `free_stock`: free quantity per Bitrix24 product id, when the flow checked stock (None = not
    checked, no copy). `new_fingerprint`: the hash of the freshly mapped field set, when the flow
    already built it; equal to the stored one means nothing to update.
    """
    state = link or DealLinkState()
    rule = TriggerRule(stage_book, deal_mapping)
    deal = snapshot.deal
    semantics = rule.semantics(deal)

    if state.linked and state.outcome is not OrderOutcome.OPEN:
        return _nothing(f"the 1C order is already {state.outcome.value}; a closed order is never reopened")
    if semantics == "S":
        if state.linked:
            return _close(OrderOutcome.COMPLETED, "the deal is won")
        return OrderAction(
            kind=OrderActionKind.WON_WITHOUT_ORDER, reason="the deal is won but has no 1C order"
        )
    if semantics == "F":
        if state.linked:
            return _close(OrderOutcome.CANCELLED, "the deal is lost")
        return _nothing("the deal is lost and has no 1C order")

    if state.linked:
        if not rule.writes_order(deal, state):
            return _nothing(NO_EXCHANGE_REASON)
        if new_fingerprint is not None and new_fingerprint == state.fingerprint:
            return _nothing("the mapped fields are unchanged")
        return OrderAction(kind=OrderActionKind.UPDATE, reason="the deal changed")

    if not rule.may_create(deal):
        return _nothing(f"stage {deal.stage_id!r} is not a trigger stage")
    if free_stock is not None and rule.checks_stock(deal):
        short = short_products(snapshot, free_stock)
        if short:
            if state.materials_copy_deal_id is not None:
                copied = state.materials_copy_deal_id
                return _nothing(f"out of stock; already copied to the materials funnel as deal {copied}")
            materials = stage_book.funnel(deal_mapping.materials_funnel)
            first = materials.first_working_stage()
            return OrderAction(
                kind=OrderActionKind.COPY_TO_MATERIALS,
                reason="products are out of stock",
                short_products=short,
                target_category_id=materials.category_id,
                target_stage_id=first.status_id if first else None,
            )
    return OrderAction(kind=OrderActionKind.CREATE, reason="the deal reached a trigger stage")
