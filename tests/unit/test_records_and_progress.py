"""The record an operator names (`resync deal 42`) and the plain progress line (count, rate, ETA)."""

from __future__ import annotations

import re

import pytest

from bridge.commands.progress import line
from bridge.domain.records import RecordRef, parse_record


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("deal", " 042 ", RecordRef(kind="deal", key="42")),
        ("order", "00000000123", RecordRef(kind="order", key="00000000123")),
        ("company", "7", RecordRef(kind="company", key="7")),
        ("counterparty", "7712345678", RecordRef(kind="counterparty", key="7712345678")),
        ("counterparty", "500100732259", RecordRef(kind="counterparty", key="500100732259")),
        ("product", "15", RecordRef(kind="product", key="15")),
    ],
)
def test_each_kind_parses(kind: str, key: str, expected: RecordRef) -> None:
    assert parse_record(kind, key) == expected


@pytest.mark.parametrize(
    ("kind", "key", "reason"),
    [
        ("deal", "0", "a Bitrix24 id is a positive whole number"),
        ("product", "abc", "a Bitrix24 id is a positive whole number"),
        ("counterparty", "77123", "an ИНН has 10 (organisation) or 12 (person) digits"),
        ("order", "  ", "the 1C order number is empty"),
        ("invoice", "1", "unknown record kind 'invoice'"),
    ],
)
def test_a_bad_record_names_the_reason(kind: str, key: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_record(kind, key)


def test_progress_line_has_count_rate_and_eta() -> None:
    assert line("parties", 50, 200, 10.0) == "parties: 50/200 (5.0/s, ETA 30 s)"
    assert line("parties", 0, 200, 0.0) == "parties: 0/200 (0.0/s, ETA ?)"
