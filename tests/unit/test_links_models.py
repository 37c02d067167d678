"""Link-store models, stored-item conversion and DynamoDB error mapping (no sockets)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import ValidationError

from bridge.errors import PermanentError, TransientError
from bridge.store import B24Ref, Cursor, Link, LinkConflict, OneCRef, StoreBusy, StoreError
from bridge.store.errors import translate
from bridge.store.items import AuditItem, CursorItem, LinkItem, is_expired

REF = "b1c89da7-cb6a-11e6-aede-5404a6b4b8ed"
LINK = Link(
    b24=B24Ref(entity="DEAL", id="123"),
    onec=OneCRef(entity_set="Document_ЗаказПокупателя", ref=REF),
    fingerprint="fp",
    data_version=None,
    synced_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
    extra={"number": "00000000001"},
)


def client_error(code: str, status: int = 400, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


def test_refs_validate_and_normalize() -> None:
    assert OneCRef(entity_set="Catalog_Контрагенты", ref=REF.upper()).ref == REF
    assert B24Ref(entity="COMPANY", id=7).id == "7"
    with pytest.raises(ValidationError):
        OneCRef(entity_set="Catalog_Контрагенты", ref="not-a-guid")
    with pytest.raises(ValidationError):
        B24Ref(entity="deal", id="1")
    with pytest.raises(ValidationError):
        B24Ref(entity="DEAL", id="1#2")


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        LINK.fingerprint = "other"  # type: ignore[misc]


def test_both_link_items_carry_the_pair_and_convert_back() -> None:
    b24_side = LinkItem.from_link(LINK, "B24").to_attributes()
    onec_side = LinkItem.from_link(LINK, "1C").to_attributes()

    assert b24_side["pk"] == {"S": "B24#DEAL#123"}
    assert onec_side["pk"] == {"S": f"1C#Document_ЗаказПокупателя#{REF}"}
    assert b24_side["sk"] == onec_side["sk"] == {"S": "LINK"}
    assert b24_side["data_version"] == {"NULL": True}
    assert LinkItem.from_attributes(b24_side).to_link() == LINK
    assert LinkItem.from_attributes(onec_side).to_link() == LINK


def test_cursor_value_round_trips_as_json() -> None:
    item = CursorItem.new(
        "stock", {"b": [1, 2.5, None], "a": "ф"}, 3, datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    )
    back = CursorItem.from_attributes(item.to_attributes()).to_cursor()
    assert back == Cursor(
        name="stock",
        value={"a": "ф", "b": [1, 2.5, None]},
        version=3,
        updated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def test_expiry_is_decided_in_code() -> None:
    item = AuditItem(
        day="2025-03-01",
        at="2025-03-01T12:00:00.000000+00:00",
        flow="f",
        subject="s",
        outcome="ok",
        detail_json="{}",
        expires_at=1000,
    ).to_attributes()
    assert not is_expired(item, 999.9)
    assert is_expired(item, 1000)
    assert not is_expired({"pk": {"S": "x"}}, 10**12)


def test_failed_conditions_become_the_callers_conflict() -> None:
    conflict = LinkConflict(LINK, [LINK])
    assert (
        translate(
            client_error("TransactionCanceledException", reasons=["None", "ConditionalCheckFailed"]),
            lambda: conflict,
        )
        is conflict
    )
    assert translate(client_error("ConditionalCheckFailedException"), lambda: conflict) is conflict
    assert isinstance(conflict, PermanentError)
    assert "DEAL 123" in str(conflict)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("InternalServerError", status=500),
        client_error("Whatever", status=503),
        client_error("TransactionCanceledException", reasons=["TransactionConflict", "None"]),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_throttling_and_outages_are_transient(error: Exception) -> None:
    translated = translate(error, None)  # type: ignore[arg-type]
    assert isinstance(translated, StoreBusy)
    assert isinstance(translated, TransientError)


def test_invalid_requests_are_permanent() -> None:
    translated = translate(client_error("ResourceNotFoundException"), None)
    assert isinstance(translated, StoreError)
    assert isinstance(translated, PermanentError)
