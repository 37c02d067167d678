"""Change-detection values and the push path's authentication and body."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.payments.manifest import DocVersion, OrderEntry, PaymentEntry, diff_payments, orders_to_check
from bridge.payments.push import PushBody, authentic, sign
from bridge.payments.text import payment_tag

REF = "00000000-0000-0000-0000-000000000001"


def test_payment_entry_round_trips_with_its_orders() -> None:
    entry = PaymentEntry(DocVersion("AAAAAAAAAAE=", True, False), ("b", "a"))
    assert PaymentEntry.decode(entry.encode()) == PaymentEntry(entry.version, ("a", "b"))


def test_diff_finds_new_changed_unposted_and_vanished() -> None:
    stored = {
        "same": PaymentEntry(DocVersion("v1", True, False), ("o",)).encode(),
        "unposted": PaymentEntry(DocVersion("v1", True, False), ("o",)).encode(),
        "gone": PaymentEntry(DocVersion("v1", True, False), ("o",)).encode(),
    }
    current = {
        "same": DocVersion("v1", True, False),
        "unposted": DocVersion("v2", False, False),
        "new": DocVersion("v0", True, False),
    }
    diff = diff_payments(current, stored)
    assert set(diff.changed) == {"unposted", "new"}
    assert diff.vanished == ("gone",)


def test_unlinked_orders_are_rechecked_only_for_a_while() -> None:
    stored = {
        "fresh": OrderEntry("v", unlinked_since=1000).encode(),
        "old": OrderEntry("v", unlinked_since=0).encode(),
        "linked": "v",
    }
    current = {"fresh": "v", "old": "v", "linked": "v", "changed": "v2"}
    assert set(orders_to_check(current, {**stored, "changed": "v1"}, now=1100, recheck_s=600)) == {
        "fresh",
        "changed",
    }


def test_push_accepts_a_signature_or_the_token_and_nothing_else() -> None:
    body = '{"type": "Document_ЗаказПокупателя"}'.encode()
    assert authentic("k", body, {"x-bridge-signature": sign("k", body)})
    assert authentic("k", body, {"x-bridge-token": "k"})
    assert not authentic("k", body, {"x-bridge-token": "K"})
    assert not authentic("k", body, {"x-bridge-signature": sign("other", body)})
    assert not authentic("", body, {"x-bridge-token": ""})  # no secret configured: refuse all
    assert not authentic("k", body, {})


def test_push_body_single_or_list() -> None:
    one = PushBody.model_validate({"type": "Document_ПоступлениеВКассу", "ref": REF.upper()})
    assert one.objects[0].ref == REF
    assert (
        len(
            PushBody.model_validate(
                {"objects": [{"type": "Document_ЗаказПокупателя", "ref": REF}] * 2}
            ).objects
        )
        == 2
    )
    with pytest.raises(ValidationError):
        PushBody.model_validate({"type": "Catalog_Контрагенты", "ref": REF})


def test_notification_tag_is_per_payment() -> None:
    assert payment_tag(REF) == f"1c-pay-{REF}"
