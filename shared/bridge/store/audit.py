"""Audit records: what a flow wrote where, or why it did not (pk `AUDIT#<day>`, TTL'd)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from bridge.store.items import AuditItem, audit_pk
from bridge.store.models import AuditEntry
from bridge.store.table import Table

_DAY_S = 86_400


class AuditLog:
    def __init__(self, table: Table, *, ttl_days: int = 30) -> None:
        self._table = table
        self._ttl_s = ttl_days * _DAY_S

    def record(self, flow: str, subject: str, outcome: str, detail: Mapping[str, Any]) -> AuditEntry:
        now = self._table.clock()
        moment = datetime.fromtimestamp(now, UTC)
        item = AuditItem(
            day=moment.date().isoformat(),
            at=moment.isoformat(timespec="microseconds"),
            flow=flow,
            subject=subject,
            outcome=outcome,
            detail_json=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
            expires_at=int(now) + self._ttl_s,
        )
        self._table.put(item.to_attributes())
        return item.to_entry()

    def list(self, day: date) -> list[AuditEntry]:
        """The day's (UTC) audit records, oldest first, without those past their expiry."""
        return [AuditItem.from_attributes(a).to_entry() for a in self._table.query(audit_pk(day.isoformat()))]
