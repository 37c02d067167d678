"""The record kinds an operator types (`journal deal 42`) and the audit subjects flows write."""

from __future__ import annotations

import pytest

from bridge.domain.records import BadRecord, RecordRef, parse_record, record_of_subject

REF = "39db6ad9-e739-4fe6-b691-9a0a29b6518e"


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("deal", "42", RecordRef(kind="deal", key="42")),
        ("DEAL", "042", RecordRef(kind="deal", key="42")),
        ("order", "00000000002", RecordRef(kind="order", key="00000000002")),
        ("order", REF.upper(), RecordRef(kind="order", key=REF)),
        ("counterparty", "7712345678", RecordRef(kind="counterparty", key="7712345678")),
        ("counterparty", "771234567890", RecordRef(kind="counterparty", key="771234567890")),
        ("company", "7", RecordRef(kind="company", key="7")),
        ("product", "9", RecordRef(kind="product", key="9")),
    ],
)
def test_what_an_operator_types_names_one_record(kind: str, key: str, expected: RecordRef) -> None:
    assert parse_record(kind, key) == expected


@pytest.mark.parametrize(
    ("kind", "key", "why"),
    [
        ("deal", "abc", "positive whole number"),
        ("deal", "0", "positive whole number"),
        ("counterparty", "12345", r"10 \(organisation\) or 12 \(person\) digits"),
        ("order", "A#1", "without '#'"),
        ("invoice", "1", "unknown record kind"),
    ],
)
def test_a_record_that_cannot_exist_is_refused_with_the_reason(kind: str, key: str, why: str) -> None:
    with pytest.raises(BadRecord, match=why):
        parse_record(kind, key)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("DEAL-42", RecordRef(kind="deal", key="42")),
        ("COMPANY-7", RecordRef(kind="company", key="7")),
        (f"ORDER-{REF}", RecordRef(kind="order", key=REF)),
        ("B24#COMPANY#7", RecordRef(kind="company", key="7")),
        (f"1C#Catalog_Контрагенты#{REF}", RecordRef(kind="counterparty", key=REF)),
        (f"1C#{REF}", RecordRef(kind="counterparty", key=REF)),
        (f"1C#Document_ЗаказПокупателя#{REF}", RecordRef(kind="order", key=REF)),
        ("CONTACT-5", None),
        (f"PAYMENT-{REF}", None),
        ("B24#CONTACT#5", None),
    ],
)
def test_audit_subjects_map_to_the_record_they_concern(subject: str, expected: RecordRef | None) -> None:
    assert record_of_subject(subject) == expected
