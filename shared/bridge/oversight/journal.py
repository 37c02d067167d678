"""One record's sync history: its own audit partition plus its linked counterpart's, newest first.

The operator names a record as people know it (deal 42, order 000123, counterparty by ИНН); 1C
numbers and ИНН are turned into Ref_Keys by one 1C read, and the link store adds the other side,
so `journal deal 42` also shows what the payments poller noted under the deal's 1C order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.domain import onec_sets
from bridge.domain.records import RecordRef
from bridge.onec.odata import quote_string
from bridge.ports import Ports
from bridge.store import AuditEntry, B24Ref, Link, OneCRef

_ONEC_SETS = {"order": onec_sets.ORDERS, "counterparty": onec_sets.COUNTERPARTIES}
_ONEC_KEYS = {"order": "Number", "counterparty": "ИНН"}
_B24_KIND = {"DEAL": "deal", "COMPANY": "company", "PRODUCT": "product"}
_ONEC_KIND = {onec_sets.ORDERS: "order", onec_sets.COUNTERPARTIES: "counterparty"}


@dataclass(frozen=True)
class JournalLine:
    record: RecordRef
    entry: AuditEntry


@dataclass(frozen=True)
class Journal:
    asked: RecordRef
    records: list[RecordRef]  # the asked record as stored (1C by Ref_Key), then its linked ones
    lines: list[JournalLine]  # newest first
    notes: list[str] = field(default_factory=list)  # what could not be resolved, and why


def journal(asked: RecordRef, ports: Ports) -> Journal:
    notes: list[str] = []
    records = _resolve(asked, ports, notes)
    lines = [JournalLine(record, entry) for record in records for entry in ports.store.audit.history(record)]
    lines.sort(key=lambda line: line.entry.at, reverse=True)
    return Journal(asked=asked, records=records, lines=lines, notes=notes)


def _resolve(asked: RecordRef, ports: Ports, notes: list[str]) -> list[RecordRef]:
    if (entity := asked.b24_entity) is not None:
        own = [asked]
        links = [ports.store.links.find_by_b24(B24Ref(entity=entity, id=asked.key))]
    else:
        own = [asked] if asked.is_onec_ref else _onec_refs(asked, ports, notes)
        entity_set = _ONEC_SETS[asked.kind]
        links = [ports.store.links.find_by_onec(OneCRef(entity_set=entity_set, ref=r.key)) for r in own]
    found = [*own]
    for link in links:
        if link is None:
            continue
        for other in (_b24_record(link), _onec_record(link)):
            if other is not None and other not in found:
                found.append(other)
    if not any(link is not None for link in links):
        notes.append(f"{asked} is not linked to the other system")
    return found


def _onec_refs(asked: RecordRef, ports: Ports, notes: list[str]) -> list[RecordRef]:
    """1C's Ref_Keys of an order number or an ИНН (an ИНН may belong to several counterparties)."""
    rows = ports.onec.list(
        _ONEC_SETS[asked.kind],
        filter=f"{_ONEC_KEYS[asked.kind]} eq {quote_string(asked.key)}",
        select=["Ref_Key"],
    )
    if not rows:
        notes.append(f"1C has no {asked.kind} with {_ONEC_KEYS[asked.kind]} {asked.key}")
    return [RecordRef(kind=asked.kind, key=str(row["Ref_Key"])) for row in rows]


def _b24_record(link: Link) -> RecordRef | None:
    kind = _B24_KIND.get(link.b24.entity)
    return RecordRef(kind=kind, key=link.b24.id) if kind is not None else None


def _onec_record(link: Link) -> RecordRef | None:
    kind = _ONEC_KIND.get(link.onec.entity_set)
    return RecordRef(kind=kind, key=link.onec.ref) if kind is not None else None
