"""The record kinds an operator names (`journal deal 42`, `resync order 000123`), parsed once.

A record is one business object on either side: a Bitrix24 deal, company or product (by id), a
1C order (by number or Ref_Key) or counterparty (by ИНН or Ref_Key). Audit items carry the record
they concern, so that one record's history is one DynamoDB query (`REC#<kind>#<key>`).
"""

from __future__ import annotations

import re
import uuid
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from bridge.domain import onec_sets

RecordKind = Literal["deal", "order", "company", "counterparty", "product"]
RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)

_B24_KINDS = {"deal": "DEAL", "company": "COMPANY", "product": "PRODUCT"}
_INN = re.compile(r"^(\d{10}|\d{12})$")


class BadRecord(ValueError):
    """The operator named a record that cannot exist; the message says why."""


class RecordRef(BaseModel):
    """One record: `kind` and its key (a Bitrix24 id, a 1C number, ИНН or lowercase Ref_Key)."""

    model_config = ConfigDict(frozen=True)

    kind: RecordKind
    key: str = Field(min_length=1, pattern=r"^[^#\s]+$")

    @property
    def is_onec_ref(self) -> bool:
        """The key is a 1C Ref_Key (not a number or ИНН): it can be looked up in the links at once."""
        return self.kind in ("order", "counterparty") and _guid(self.key) is not None

    @property
    def b24_entity(self) -> str | None:
        """The Bitrix24 entity (`DEAL`) of a Bitrix24-side kind, else None."""
        return _B24_KINDS.get(self.kind)

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


def parse_record(kind: str, key: str) -> RecordRef:
    """What the operator typed, checked: `deal 42`, `order 000123`, `counterparty 7701234567`."""
    kind = kind.strip().lower()
    key = key.strip()
    if kind not in RECORD_KINDS:
        raise BadRecord(f"unknown record kind {kind!r}: one of {', '.join(RECORD_KINDS)}")
    if kind in _B24_KINDS:
        if not key.isdigit() or int(key) <= 0:
            raise BadRecord(f"{kind} {key!r}: a Bitrix24 id is a positive whole number")
        return RecordRef(kind=kind, key=str(int(key)))
    if (ref := _guid(key)) is not None:
        return RecordRef(kind=kind, key=ref)
    if kind == "counterparty" and not _INN.match(key):
        raise BadRecord(
            f"counterparty {key!r}: an ИНН has 10 (organisation) or 12 (person) digits, or give a Ref_Key"
        )
    if kind == "order" and not key:
        raise BadRecord("order: the 1C order number is empty")
    if kind == "order" and ("#" in key or any(c.isspace() for c in key)):
        raise BadRecord(f"order number must be one word without '#', not {key!r}")
    return RecordRef(kind=kind, key=key)


def record_of_subject(subject: str) -> RecordRef | None:
    """The record an audit subject names, for the subjects the flows write: `DEAL-42`,
    `COMPANY-7`, `PRODUCT-9`, `ORDER-<ref>`, `B24#COMPANY#7`, `1C#<entity set>#<ref>`, `1C#<ref>`.
    Anything else (a payment document, a contact) concerns no record an operator names."""
    if subject.startswith("B24#"):
        parts = subject.split("#")
        return _b24(parts[1], parts[2]) if len(parts) == 3 else None
    if subject.startswith("1C#"):
        parts = subject.split("#")
        ref = _guid(parts[-1])
        if ref is None or len(parts) not in (2, 3):
            return None
        entity_set = parts[1] if len(parts) == 3 else onec_sets.COUNTERPARTIES
        if entity_set == onec_sets.ORDERS:
            return RecordRef(kind="order", key=ref)
        return RecordRef(kind="counterparty", key=ref) if entity_set == onec_sets.COUNTERPARTIES else None
    head, _, tail = subject.partition("-")
    if head == "ORDER" and (ref := _guid(tail)) is not None:
        return RecordRef(kind="order", key=ref)
    return _b24(head, tail)


def _b24(entity: str, entity_id: str) -> RecordRef | None:
    kinds = {value: kind for kind, value in _B24_KINDS.items()}
    if entity not in kinds or not entity_id.isdigit():
        return None
    return RecordRef(kind=kinds[entity], key=str(int(entity_id)))


def _guid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text)) if len(text) == 36 else None
    except ValueError:
        return None
