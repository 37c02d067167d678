"""The customer order in 1C: lookup before create, create, update, close, and the shipment.

Lookup before create without a full scan on every new deal: an intent marker (a SyncTable cursor
`deal-order-intent-<id>`, written conditionally before the POST) records that a create may have
happened. Only when the marker already exists — a previous attempt got that far and may have
crashed after 1C answered — is the order looked up by the deal id in 1C.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from bridge.deals.config import OrderConfig
from bridge.deals.decisions import OrderOutcome
from bridge.deals.mapping import (
    ORDER_TYPE,
    OrderDraft,
    close_order_patch,
    order_lookup_filter,
    order_patch,
    shipment_body,
)
from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.domain.onec_sets import SHIPMENTS as SHIPMENT_SET
from bridge.onec.odata import Filter, cast_ref
from bridge.ports import Ports
from bridge.store import ClaimHeld, CursorConflict

ORDER_FIELDS = ["Ref_Key", "Number", "DeletionMark"]


def intent_cursor(deal_id: int) -> str:
    return f"deal-order-intent-{deal_id}"


def claim_create(ports: Ports, deal_id: int) -> bool:
    """True when this is the first attempt to create the deal's order (marker written now)."""
    try:
        ports.store.cursors.put(intent_cursor(deal_id), {"at": datetime.now(UTC).isoformat()})
    except CursorConflict:
        return False
    return True


def find_order(ports: Ports, deal_id: int, config: OrderConfig) -> dict[str, Any] | None:
    rows = ports.onec.list(
        ORDER_SET, filter=Filter(order_lookup_filter(deal_id, config)), select=ORDER_FIELDS
    )
    live = [r for r in rows if not r.get("DeletionMark")]
    return live[0] if live else None


def order_claim(deal_id: int) -> str:
    return f"order:deal:{deal_id}"


def create_order(ports: Ports, draft: OrderDraft, config: OrderConfig) -> tuple[dict[str, Any], bool]:
    """The deal's order: found (a previous attempt created it) or created now; (order, created).

    The intent marker makes every later attempt look up first; the claim makes sure only one
    worker at a time gets from the lookup to the create. Without it two workers on one deal (an
    event and the sweep, or a redelivery racing a slow first run) both find nothing and both
    create: the marker alone does not stop the second while the first is still between the two.
    """
    first = claim_create(ports, draft.deal_id)
    name, owner = order_claim(draft.deal_id), f"order:{uuid.uuid4()}"
    claim = ports.store.links.claim(name, owner)
    if not claim.won:
        if claim.result is None:
            raise ClaimHeld(f"deal {draft.deal_id}: another worker is creating its order; retried")
        existing = find_order(ports, draft.deal_id, config)
        if existing is None:
            raise ClaimHeld(f"deal {draft.deal_id}: the order created at the same time is not found yet")
        return existing, False
    if not first or claim.taken_over:
        existing = find_order(ports, draft.deal_id, config)
        if existing is not None:
            ports.store.links.settle_claim(name, owner, str(existing["Ref_Key"]))
            return existing, False
    row = ports.onec.create(ORDER_SET, draft.body)
    ports.store.links.settle_claim(name, owner, str(row["Ref_Key"]))
    return row, True


def update_order(ports: Ports, order_ref: str, draft: OrderDraft) -> dict[str, Any]:
    """PATCH every non-empty mapped field; the goods table goes whole (1C replaces sections)."""
    return ports.onec.update(ORDER_SET, order_ref, order_patch({}, draft.mapped))


def close_order(ports: Ports, order_ref: str, outcome: OrderOutcome, config: OrderConfig) -> dict[str, Any]:
    return ports.onec.update(ORDER_SET, order_ref, close_order_patch(outcome, config))


def ensure_shipment(ports: Ports, order: dict[str, Any], config: OrderConfig) -> tuple[str, bool]:
    """The order's shipment: an existing one (any earlier attempt), else a new one; (ref, created)."""
    existing = ports.onec.list(
        SHIPMENT_SET,
        filter=Filter(f"Заказ eq {cast_ref(str(order['Ref_Key']), ORDER_SET)}"),
        select=["Ref_Key", "DeletionMark", "Posted"],
    )
    live = [r for r in existing if not r.get("DeletionMark")]
    if live:
        ref = str(live[0]["Ref_Key"])
        if config.options.post_shipment and not live[0].get("Posted"):
            # An earlier attempt created it but its posting failed: post it now.
            ports.onec.post_document(SHIPMENT_SET, ref)
        return ref, False
    created = ports.onec.create(SHIPMENT_SET, shipment_body(order, datetime.now(), config))
    ref = str(created["Ref_Key"])
    if config.options.post_shipment:
        ports.onec.post_document(SHIPMENT_SET, ref)
    return ref, True


__all__ = [
    "ORDER_TYPE",
    "claim_create",
    "close_order",
    "create_order",
    "ensure_shipment",
    "find_order",
    "update_order",
]
