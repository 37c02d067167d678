"""Change-detection values and the push path's authentication and body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bridge.payments.manifest import DocVersion, OrderEntry, PaymentEntry, diff_payments, orders_to_check
from bridge.payments.push import PushBody, authentic, refusal, sign, signed_headers
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


NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_push_accepts_a_fresh_signature_and_nothing_else() -> None:
    body = '{"type": "Document_ЗаказПокупателя"}'.encode()
    stamp = str(int(NOW.timestamp()))
    assert authentic("k", body, signed_headers("k", body, NOW), NOW)
    assert authentic(
        "k", body, {"x-bridge-timestamp": stamp, "x-bridge-signature": sign("k", stamp, body)}, NOW
    )
    assert not authentic("k", body, signed_headers("other", body, NOW), NOW)
    assert not authentic("k", body + b" ", signed_headers("k", body, NOW), NOW)
    assert not authentic("k", body, {"x-bridge-signature": sign("k", stamp, body)}, NOW)  # no timestamp
    # The timestamp is signed: moving it to pass the window breaks the signature.
    moved = {**signed_headers("k", body, NOW - timedelta(hours=1)), "x-bridge-timestamp": stamp}
    assert not authentic("k", body, moved, NOW)
    assert not authentic("", body, signed_headers("", body, NOW), NOW)  # no secret configured: refuse all
    assert not authentic("k", body, {}, NOW)


def test_the_plain_token_mode_is_gone() -> None:
    body = '{"type": "Document_ЗаказПокупателя"}'.encode()
    assert refusal("k", body, {"x-bridge-token": "k"}, NOW) == "missing x-bridge-signature"


@pytest.mark.parametrize("age_s", [-301, 301, 86_400, -86_400])
def test_a_stale_or_future_timestamp_is_refused(age_s: int) -> None:
    body = '{"type": "Document_ЗаказПокупателя"}'.encode()
    headers = signed_headers("k", body, NOW - timedelta(seconds=age_s))
    assert refusal("k", body, headers, NOW) == "x-bridge-timestamp is more than 300 s away from now"


@pytest.mark.parametrize("age_s", [-300, 0, 300])
def test_a_timestamp_within_five_minutes_is_accepted(age_s: int) -> None:
    body = '{"type": "Document_ЗаказПокупателя"}'.encode()
    assert refusal("k", body, signed_headers("k", body, NOW - timedelta(seconds=age_s)), NOW) is None


@pytest.mark.parametrize("stamp", ["", "abc", "-5", "1.5", "１７６６０４７１２４", "9" * 13])
def test_a_malformed_timestamp_is_refused(stamp: str) -> None:
    body = b"{}"
    headers = {"x-bridge-timestamp": stamp, "x-bridge-signature": sign("k", "0", body)}
    assert refusal("k", body, headers, NOW) == "missing or malformed x-bridge-timestamp (unix seconds)"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        PushBody.model_validate({"objects": [{"type": "Document_ЗаказПокупателя", "ref": REF}], "oops": 1})
    with pytest.raises(ValidationError, match="Extra inputs"):
        PushBody.model_validate({"type": "Document_ЗаказПокупателя", "ref": REF, "reff": REF})


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


def test_upper_case_hex_from_1c_is_accepted() -> None:
    body = '{"type": "Document_ЗаказПокупателя"}'.encode()
    headers = signed_headers("k", body, NOW)
    headers["x-bridge-signature"] = "sha256=" + headers["x-bridge-signature"].removeprefix("sha256=").upper()
    assert authentic("k", body, headers, NOW)


def test_the_documented_1c_test_vector() -> None:
    # docs/payments-flow.md gives these values so the 1C side can check its HMAC before going live.
    body = (
        '{"objects": [{"type": "Document_ЗаказПокупателя", "ref": "5f1b2c3d-0000-4000-8000-000000000001"}]}'
    )
    assert sign("sandbox-push-secret", 1766047124, body.encode()) == (
        "sha256=138c1c530dfc0cb13bc660437e42c359d2ba2edf9f043c97f63a6ad25284b2c0"
    )
