"""Emulator settings: webhook identity, portal identity, limits, seed and outgoing webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone


@dataclass
class OutgoingWebhook:
    """An outgoing webhook as configured in the portal UI: one handler URL for a set of events."""

    handler: str
    events: list[str]
    application_token: str | None = None


# Server time charged per call when the operating limit is on (seconds; README §1.5). Bitrix24 does
# not publish per-method costs; these are plausible cloud figures (needs a live check), chosen so
# that a 10 000-product first load sent flat out crosses the 480 s budget of both methods it uses
# (10 000 × 0.06 s = 600 s of catalog.product.add, 10 000 × 0.05 s = 500 s of catalog.price.add)
# while the request bucket alone would let it through in about three minutes.
DEFAULT_METHOD_COSTS: dict[str, float] = {
    "catalog.product.add": 0.06,
    "catalog.product.update": 0.05,
    "catalog.product.delete": 0.05,
    "catalog.product.list": 0.03,
    "catalog.price.add": 0.05,
    "catalog.price.update": 0.04,
    "catalog.price.list": 0.03,
    "catalog.section.add": 0.05,
    "catalog.section.update": 0.04,
    "catalog.section.list": 0.02,
    "catalog.document.add": 0.1,
    "catalog.document.element.add": 0.05,
    "catalog.document.conduct": 0.2,
    "catalog.storeproduct.list": 0.03,
}


@dataclass
class B24EmulatorConfig:
    webhook_user_id: int = 1
    webhook_code: str = "sandbox"
    domain: str = "sandbox.bitrix24.local"
    member_id: str = "5a1d0b0c0e0f4a2b9c8d7e6f5a4b3c2d"
    # Shared secret sent as auth[application_token]; outgoing webhooks may override it.
    application_token: str = "sandboxapplicationtoken000000001"
    utc_offset_hours: int = 3
    rate_limit_enabled: bool = False
    plan: str = "standard"  # "standard" (50 / 2 rps) or "enterprise" (250 / 5 rps)
    operating_limit_enabled: bool = False
    operating_budget_seconds: float = 480.0
    operating_window_seconds: float = 600.0
    # Simulated execution time billed to each call of a method (seconds) while the operating limit
    # is on; `method_costs` overrides DEFAULT_METHOD_COSTS per method, other methods cost
    # `default_method_cost`. Lets tests reach OPERATION_TIME_LIMIT without slow calls. With the
    # limit off only the real processing time is billed (what `time.operating` shows).
    method_costs: dict[str, float] = field(default_factory=dict)
    default_method_cost: float = 0.0
    outgoing_webhooks: list[OutgoingWebhook] = field(default_factory=list)
    event_timeout_seconds: float = 5.0
    inventory_management: bool = False
    seed: bool = True
    snapshot_path: str | None = None

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))

    @property
    def bucket(self) -> tuple[int, float]:
        """(bucket size X, drain rate Y per second) for the configured plan (README §1.5)."""
        return (250, 5.0) if self.plan == "enterprise" else (50, 2.0)
