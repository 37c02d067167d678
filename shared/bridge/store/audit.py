"""Audit records: what a flow wrote where, or why it did not (TTL'd).

Each record is kept twice: under its day (`AUDIT#<day>`, for "what failed today") and, when its
subject names a record an operator asks about, under that record (`REC#<kind>#<key>`), so a
record's history is one query. Both go in one BatchWriteItem; the copy costs one more write
unit per audit item and expires with it.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bridge.domain.records import RecordRef, record_of_subject
from bridge.store.items import AuditItem, audit_pk, record_pk
from bridge.store.models import AuditEntry
from bridge.store.table import Table

_DAY_S = 86_400


class AuditLog:
    def __init__(self, table: Table, *, ttl_days: int = 30) -> None:
        self._table = table
        self._ttl_s = ttl_days * _DAY_S

    def record(
        self,
        flow: str,
        subject: str,
        outcome: str,
        detail: Mapping[str, Any],
        *,
        records: Iterable[RecordRef] = (),
        daily: bool = True,
    ) -> AuditEntry:
        """Keep one audit record; `records` adds records it concerns beyond the one its subject names.
        `daily=False` keeps it only under its records (a routine note, not for the day's review)."""
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
        concerned = dict.fromkeys(
            [*([own] if (own := record_of_subject(subject)) is not None else []), *records]
        )
        pks = [record_pk(r.kind, r.key) for r in concerned]
        if daily:
            pks.insert(0, audit_pk(item.day))
        if not pks:
            return item.to_entry()  # a routine note about no record an operator names
        if len(pks) == 1:
            self._table.put(item.to_attributes(pks[0]))
        else:
            self._table.batch_write([{"PutRequest": {"Item": item.to_attributes(pk)}} for pk in pks])
        return item.to_entry()

    def list(self, day: date) -> list[AuditEntry]:
        """The day's (UTC) audit records, oldest first, without those past their expiry."""
        return [AuditItem.from_attributes(a).to_entry() for a in self._table.query(audit_pk(day.isoformat()))]

    def since(self, moment: datetime) -> builtins.list[AuditEntry]:
        """Every audit record from `moment` on, oldest first (one query per day touched)."""
        today = self._table.now().date()
        days = [moment.date() + timedelta(days=n) for n in range((today - moment.date()).days + 1)]
        return [entry for day in days for entry in self.list(day) if entry.at >= moment]

    def history(self, record: RecordRef) -> builtins.list[AuditEntry]:
        """Everything kept about one record, newest first (one query)."""
        items = self._table.query(record_pk(record.kind, record.key))
        return [AuditItem.from_attributes(a).to_entry() for a in reversed(list(items))]
