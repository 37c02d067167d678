"""The sandbox's DynamoDB keeps DynamoDB's TransactWriteItems contract with item-level undo
(`sandbox.moto_transactions`): all entries or none, the cancellation reasons per entry, a named
item twice refused. SyncTable's claims, links and intents rely on each of these."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REGION

pytestmark = pytest.mark.contract

type Client = Any


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "A"}}


def _item(pk: str, value: str) -> dict[str, Any]:
    return {**_key(pk), "v": {"S": value}}


def _put(table: str, pk: str, value: str, *, new: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table, "Item": _item(pk, value)}
    if new:
        op["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": op}


def _update(table: str, pk: str, value: str, *, expect: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "TableName": table,
        "Key": _key(pk),
        "UpdateExpression": "SET v = :v",
        "ExpressionAttributeValues": {":v": {"S": value}},
    }
    if expect is not None:
        op["ConditionExpression"] = "v = :old"
        op["ExpressionAttributeValues"][":old"] = {"S": expect}
    return {"Update": op}


def _delete(table: str, pk: str) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": _key(pk)}}


def _contents(dynamodb: Client, table: str) -> dict[str, str]:
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["pk"]["S"]: item.get("v", {}).get("S", "") for item in items}


def _seed(dynamodb: Client, table: str, **values: str) -> None:
    for pk, value in values.items():
        dynamodb.put_item(TableName=table, Item=_item(pk, value))


def test_a_failed_condition_cancels_every_write_of_the_transaction(dynamodb: Client, sync_table: str) -> None:
    _seed(dynamodb, sync_table, kept="1", changed="1", deleted="1", claimed="taken")

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[
                _put(sync_table, "created", "new", new=True),
                _update(sync_table, "changed", "2"),
                _delete(sync_table, "deleted"),
                _put(sync_table, "claimed", "ours", new=True),
            ]
        )

    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _contents(dynamodb, sync_table) == {
        "kept": "1",
        "changed": "1",
        "deleted": "1",
        "claimed": "taken",
    }


def test_a_transaction_whose_conditions_hold_writes_every_entry(dynamodb: Client, sync_table: str) -> None:
    _seed(dynamodb, sync_table, changed="1", deleted="1")

    dynamodb.transact_write_items(
        TransactItems=[
            _put(sync_table, "created", "new", new=True),
            _update(sync_table, "changed", "2", expect="1"),
            _delete(sync_table, "deleted"),
        ]
    )

    assert _contents(dynamodb, sync_table) == {"created": "new", "changed": "2"}


def test_one_item_named_twice_is_refused_and_nothing_is_written(dynamodb: Client, sync_table: str) -> None:
    _seed(dynamodb, sync_table, twice="1")

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[
                _put(sync_table, "other", "x"),
                _update(sync_table, "twice", "2"),
                _delete(sync_table, "twice"),
            ]
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _contents(dynamodb, sync_table) == {"twice": "1"}


_KEYS = ("a", "b", "c", "d")
_entry = st.tuples(
    st.sampled_from(("put", "put_new", "update", "update_if", "delete")), st.sampled_from("12")
)


@settings(max_examples=40)
@given(
    seed=st.dictionaries(st.sampled_from(_KEYS), st.sampled_from("12")),
    entries=st.dictionaries(st.sampled_from(_KEYS), _entry, min_size=1, max_size=4),
)
def test_any_transaction_is_all_or_nothing(
    moto_endpoint: str, seed: dict[str, str], entries: dict[str, tuple[str, str]]
) -> None:
    dynamodb: Client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)
    table = f"tx-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        _seed(dynamodb, table, **seed)
        ops, expected, holds = [], dict(seed), True
        for pk, (kind, value) in entries.items():
            if kind == "put":
                ops.append(_put(table, pk, value))
                expected[pk] = value
            elif kind == "put_new":
                ops.append(_put(table, pk, value, new=True))
                holds &= pk not in seed
                expected[pk] = value
            elif kind == "update":
                ops.append(_update(table, pk, value))
                expected[pk] = value
            elif kind == "update_if":
                ops.append(_update(table, pk, "changed", expect=value))
                holds &= seed.get(pk) == value
                expected[pk] = "changed"
            else:
                ops.append(_delete(table, pk))
                expected.pop(pk, None)

        try:
            dynamodb.transact_write_items(TransactItems=ops)
            refusal = None
        except ClientError as error:
            refusal = error.response["Error"]["Code"]

        assert refusal == (None if holds else "TransactionCanceledException")
        assert _contents(dynamodb, table) == (expected if holds else seed)
    finally:
        dynamodb.delete_table(TableName=table)
