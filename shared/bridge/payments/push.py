"""POST /1c/events: a 1C-side extension announces "object X changed" (docs/payments-flow.md).

Authentication: `X-Bridge-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with the shared
secret, or `X-Bridge-Token: <the shared secret>`; both compared in constant time. The work is the
poller's: the affected orders are recomputed at once, under the same per-order lease, so a push and
a poll of the same payment announce it once. The push never advances the manifests: the poll
still looks at the document afterwards and finds nothing left to write, which keeps it the
safety net (a payment moved from order A to B is seen by the poll, which remembers A).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.onec.odata import normalize_ref
from bridge.payments import onec_reads
from bridge.payments.models import ORDER_SET
from bridge.payments.recompute import OrderOutcome, PaymentsContext, recompute_order
from bridge.payments.state import OrderBusy

SIGNATURE_HEADER = "x-bridge-signature"
TOKEN_HEADER = "x-bridge-token"
_SIGNATURE_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return _SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authentic(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the request carries a valid signature or token (header names in lower case)."""
    if not secret:
        return False
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        return hmac.compare_digest(signature.strip().encode(), sign(secret, body).encode())
    token = headers.get(TOKEN_HEADER)
    return token is not None and hmac.compare_digest(token.strip().encode(), secret.encode())


class ChangedObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    type: Literal[
        "Document_ПоступлениеНаСчет",
        "Document_ПоступлениеВКассу",
        "Document_ОперацияПоПлатежнымКартам",
        "Document_ЗаказПокупателя",
    ]
    ref: str

    @field_validator("ref")
    @classmethod
    def _guid(cls, value: str) -> str:
        return normalize_ref(value)


class PushBody(BaseModel):
    """`{"objects": [{"type": "Document_ПоступлениеНаСчет", "ref": "<Ref_Key>"}, …]}` or one object."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    objects: tuple[ChangedObject, ...] = Field(min_length=1, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _single(cls, value: Any) -> Any:
        if isinstance(value, Mapping) and "objects" not in value and "type" in value:
            return {"objects": [value]}
        return value


@dataclass
class PushReport:
    outcomes: list[OrderOutcome] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # documents no longer in 1C: the poll handles them

    def as_dict(self) -> dict[str, Any]:
        return {
            "recomputed": [o.order_ref for o in self.outcomes],
            "notified": sum(len(o.notified) for o in self.outcomes),
            "left_to_poll": self.busy + self.unknown,
        }


def handle_push(ctx: PaymentsContext, body: PushBody) -> PushReport:
    """Recompute the orders the announced objects touch; transient failures propagate (→ 503)."""
    resolved = ctx.resolved.load()
    report = PushReport()
    orders: set[str] = set()
    for changed in body.objects:
        if changed.type == ORDER_SET:
            orders.add(changed.ref)
            continue
        doc = onec_reads.payment(ctx.ports.onec, changed.type, changed.ref)
        if doc is None:
            report.unknown.append(changed.ref)
        else:
            orders.update(doc.amounts_by_order)
    for order_ref in sorted(orders):
        try:
            report.outcomes.append(recompute_order(ctx, order_ref, resolved))
        except OrderBusy:
            report.busy.append(order_ref)
    return report
