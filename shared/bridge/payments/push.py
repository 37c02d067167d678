"""POST /1c/events: a 1C-side extension announces "object X changed" (docs/payments-flow.md).

Authentication: `X-Bridge-Timestamp: <unix seconds>` and `X-Bridge-Signature: sha256=<hex
HMAC-SHA256 of "<timestamp>.<raw body>">` with the shared secret, compared in constant time. A
timestamp more than 5 minutes from now is refused, so a captured request cannot be replayed later
(within the window a replay only recomputes the same orders again, which is idempotent). There is
no plain-token mode: a token in a header replays forever. The work is the
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
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.onec.odata import normalize_ref
from bridge.payments import onec_reads
from bridge.payments.recompute import OrderOutcome, PaymentsContext, recompute_order
from bridge.store.lease import OrderBusy

SIGNATURE_HEADER = "x-bridge-signature"
TIMESTAMP_HEADER = "x-bridge-timestamp"
MAX_CLOCK_SKEW_S = 300
_SIGNATURE_PREFIX = "sha256="
_MAX_TIMESTAMP_DIGITS = 12


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body): what the 1C side sends."""
    message = str(timestamp).encode() + b"." + body
    return _SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: datetime) -> dict[str, str]:
    """The two headers of a push sent at `now` (the sandbox and tests sign like the 1C side)."""
    timestamp = int(now.timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def refusal(secret: str, body: bytes, headers: Mapping[str, str], now: datetime) -> str | None:
    """Why the request is not authentic (header names in lower case); None when it is."""
    if not secret:
        return "no push secret is configured"
    signature = headers.get(SIGNATURE_HEADER)
    stamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
    if signature is None:
        return f"missing {SIGNATURE_HEADER}"
    if not (0 < len(stamp) <= _MAX_TIMESTAMP_DIGITS and stamp.isascii() and stamp.isdigit()):
        return f"missing or malformed {TIMESTAMP_HEADER} (unix seconds)"
    expected = sign(secret, stamp, body).encode()
    # Lower-cased: 1C's ПолучитьHexСтрокуИзДвоичныхДанных writes upper-case hex.
    if not hmac.compare_digest(signature.strip().lower().encode("utf-8", "surrogatepass"), expected):
        return f"{SIGNATURE_HEADER} does not match"
    # Checked after the signature, so an unauthenticated caller learns nothing about our clock.
    if abs(now.timestamp() - int(stamp)) > MAX_CLOCK_SKEW_S:
        return f"{TIMESTAMP_HEADER} is more than {MAX_CLOCK_SKEW_S} s away from now"
    return None


def authentic(secret: str, body: bytes, headers: Mapping[str, str], now: datetime) -> bool:
    return refusal(secret, body, headers, now) is None


class ChangedObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal[
        "Document_ПоступлениеНаСчет",
        "Document_ПоступлениеВКассу",
        "Document_ОперацияПоПлатежнымКартам",
        "Document_ЗаказПокупателя",
    ]
    ref: str = Field(max_length=64)

    @field_validator("ref")
    @classmethod
    def _guid(cls, value: str) -> str:
        try:
            return normalize_ref(value)
        except ValueError:
            raise ValueError("not a 1C Ref_Key (GUID)") from None


class PushBody(BaseModel):
    """`{"objects": [{"type": "Document_ПоступлениеНаСчет", "ref": "<Ref_Key>"}, …]}` or one object."""

    # Unknown fields are refused: a misspelt key must not be read as "nothing to do".
    model_config = ConfigDict(frozen=True, extra="forbid")
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
