"""The keys of a deal ⇄ customer order link in the link store."""

from __future__ import annotations

from bridge.domain.onec_sets import ORDERS
from bridge.store import B24Ref, OneCRef

DEAL_ENTITY = "DEAL"


def deal_ref(deal_id: int) -> B24Ref:
    return B24Ref(entity=DEAL_ENTITY, id=str(deal_id))


def order_ref(ref_key: str) -> OneCRef:
    return OneCRef(entity_set=ORDERS, ref=ref_key)
