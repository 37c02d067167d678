"""One record an operator names on the command line (`journal deal 42`, `resync order 00000000123`).

Kinds: `deal <id>` and `company <id>` (Bitrix24), `order <number>` (the 1C customer order),
`counterparty <ИНН>` (the 1C counterparty), `product <id>` (the Bitrix24 product).
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

type RecordKind = Literal["deal", "order", "company", "counterparty", "product"]

RECORD_KINDS: tuple[str, ...] = get_args(RecordKind.__value__)

_DIGITS = re.compile(r"^\d+$")


class RecordRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: RecordKind
    key: str

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


def parse_record(kind: str, key: str) -> RecordRef:
    """The record `kind key` names; ValueError with the reason when it names none."""
    key = key.strip()
    if kind not in RECORD_KINDS:
        raise ValueError(f"unknown record kind {kind!r}: one of {', '.join(RECORD_KINDS)}")
    if kind in ("deal", "company", "product") and not (_DIGITS.match(key) and int(key) > 0):
        raise ValueError(f"{kind} {key!r}: a Bitrix24 id is a positive whole number")
    if kind == "counterparty" and not (_DIGITS.match(key) and len(key) in (10, 12)):
        raise ValueError(f"counterparty {key!r}: an ИНН has 10 (organisation) or 12 (person) digits")
    if kind == "order" and not key:
        raise ValueError("order: the 1C order number is empty")
    if kind in ("deal", "company", "product"):
        key = str(int(key))
    return RecordRef.model_validate({"kind": kind, "key": key})
