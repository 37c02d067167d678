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
    # Simulated execution time billed to each call of a method (seconds); unknown methods cost
    # `default_method_cost`. Lets tests reach OPERATION_TIME_LIMIT without slow calls.
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
