"""SyncTable, the bridge's one DynamoDB table, and every store kept in it.

`Table` is the low-level typed adapter (one error mapping, one TTL rule, one retry policy); the
focused stores sit on it: `links` (+ claims), `cursors`, `manifests`, `audit`, resolved
configuration (`resolved(flow, Model)`), the payments order `leases` and the Bitrix24
`rate_bucket`. `SyncStore` bundles them over one table; flows get it as `ports.store`.

| item | pk | sk |
|---|---|---|
| link, B24 side / 1C side | `B24#<ENTITY>#<id>` / `1C#<entity_set>#<ref>` | `LINK` |
| claim | `CLAIM#<name>` | `CLAIM` |
| cursor | `CURSOR#<name>` | `STATE` |
| manifest segment (many entries) | `MANIFEST#<name>` | `#segment#<stamp>#<token>` |
| audit | `AUDIT#<yyyy-mm-dd>` | `<iso ts>#<flow>#<subject>` |
| audit, per record (`journal`) | `REC#<kind>#<key>` (`REC#deal#42`) | `<iso ts>#<flow>#<subject>` |
| resolved configuration | `CONFIG#<flow>` | `RESOLVED` |
| payments order lease + state | `PAYORDER#<order ref>` | `STATE` |
| Bitrix24 rate bucket | `RATE#b24` | `STATE` |
| Bitrix24 operating time per method (`status`) | `RATE#b24-operating` | `STATE` |
| live-check probe answer (`check`) | `PROBE#<name>` | `ANSWER` |
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from bridge.store.audit import AuditLog
from bridge.store.claims import (
    Claim,
    ClaimHeld,
    ClaimSettlement,
    contact_person_claim_name,
    counterparty_claim_name,
)
from bridge.store.cursors import CursorStore
from bridge.store.errors import CursorConflict, LinkConflict, LinkNotFound, StoreBusy, StoreError
from bridge.store.lease import OrderBusy, OrderLeases
from bridge.store.links import LinkStore
from bridge.store.manifests import ManifestStore
from bridge.store.models import AuditEntry, B24Ref, Cursor, Link, OneCRef
from bridge.store.operating import OperatingSnapshots
from bridge.store.probes import ProbeAnswer, ProbeStore
from bridge.store.ratebucket import SharedBucket
from bridge.store.resolved import ConfigItems, ResolvedConfig
from bridge.store.shared_copy import SharedCopy
from bridge.store.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = [
    "AuditEntry",
    "AuditLog",
    "B24Ref",
    "Claim",
    "ClaimHeld",
    "ClaimSettlement",
    "ConfigItems",
    "Cursor",
    "CursorConflict",
    "CursorStore",
    "Link",
    "LinkConflict",
    "LinkNotFound",
    "LinkStore",
    "ManifestStore",
    "OneCRef",
    "OperatingSnapshots",
    "OrderBusy",
    "OrderLeases",
    "ProbeAnswer",
    "ProbeStore",
    "ResolvedConfig",
    "SharedBucket",
    "SharedCopy",
    "StoreBusy",
    "StoreError",
    "SyncStore",
    "Table",
    "contact_person_claim_name",
    "counterparty_claim_name",
]


class SyncStore:
    """Every store over one SyncTable, built from (table name, DynamoDB client)."""

    def __init__(
        self,
        table_name: str,
        dynamodb_client: DynamoDBClient,
        clock: Callable[[], float] = time.time,
        *,
        audit_ttl_days: int = 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = Table(table_name, dynamodb_client, clock, sleep)
        self.links = LinkStore(self.table)
        self.cursors = CursorStore(self.table)
        self.manifests = ManifestStore(self.table)
        self.audit = AuditLog(self.table, ttl_days=audit_ttl_days)
        self.config = ConfigItems(self.table)
        self.leases = OrderLeases(self.table)
        self.probes = ProbeStore(self.table)
        self.operating = OperatingSnapshots(self.table)
        # The 1C employee directory, read by one container and shared with the others.
        self.employee_directory = SharedCopy(self.cursors, "employee-directory", self.table.clock)

    def resolved[T: BaseModel](
        self, flow: str, model: type[T], *, outdated: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> ResolvedConfig[T]:
        """`flow`'s resolved configuration, typed by the flow's own model; `outdated` tells a value
        an older setup stored, which the flow cannot use (setup must run again)."""
        return ResolvedConfig(self.config, flow, model, outdated)

    def rate_bucket(self, *, burst: int, per_second: float, margin: float) -> SharedBucket:
        """The Bitrix24 bucket every Lambda shares, for the B24 client's `limiter`."""
        return SharedBucket(self.table, burst=burst, per_second=per_second, margin=margin)
