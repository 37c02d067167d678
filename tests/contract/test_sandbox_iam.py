"""The local stack's IAM check for DynamoDB (sandbox.iam): template.yaml's grants, as AWS applies them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from sandbox import iam
from sandbox.moto_server import MotoServer, start_moto
from sandbox.template import create_table_from_template, load_template

TABLE = "SyncTable-iam"
HASH_KEYS = {TABLE: "pk"}


def policies() -> iam.DynamoDBPolicies:
    resources = load_template()["Resources"]
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"]
    grants = {iam.access_key(f): iam.table_grants(resources[f], {"SyncTable": TABLE}) for f in functions}
    return iam.DynamoDBPolicies(grants, HASH_KEYS)


def signed_by(function: str, operation: str) -> dict[str, str]:
    credential = f"{iam.access_key(function)}/20261204/eu-central-1/dynamodb/aws4_request"
    return {
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=x",
        "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}",
    }


def query(pk: str) -> bytes:
    return json.dumps(
        {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
    ).encode()


def put(pk: str) -> bytes:
    return json.dumps({"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": "x"}}}).encode()


def test_setup_may_read_manifests_but_not_write_them() -> None:
    checked = policies()

    assert checked.denial(signed_by("SetupFunction", "Query"), query("MANIFEST#catalog-items")) is None
    refused = checked.denial(signed_by("SetupFunction", "PutItem"), put("MANIFEST#catalog-items"))
    assert refused is not None
    assert "dynamodb:PutItem" in refused


def test_the_deal_sweep_may_not_read_manifests_and_the_worker_may_touch_anything() -> None:
    checked = policies()

    assert (
        checked.denial(signed_by("DealSweepFunction", "Query"), query("MANIFEST#catalog-items")) is not None
    )
    assert checked.denial(signed_by("DealSweepFunction", "PutItem"), put("B24#DEAL#7")) is None
    assert checked.denial(signed_by("QueueWorkerFunction", "PutItem"), put("IDEMPOTENCY#x")) is None


def test_a_request_signed_by_no_function_is_not_checked() -> None:
    environ = {**signed_by("DealSweepFunction", "Query"), "HTTP_AUTHORIZATION": "Credential=testing/x"}

    assert policies().denial(environ, query("MANIFEST#catalog-items")) is None


def test_every_key_of_a_batch_and_a_transaction_must_be_allowed() -> None:
    checked = policies()
    batch = {
        "RequestItems": {
            TABLE: [
                {"PutRequest": {"Item": {"pk": {"S": "1C#Catalog#a"}, "sk": {"S": "LINK"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "MANIFEST#x"}, "sk": {"S": "y"}}}},
            ]
        }
    }
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "B24#DEAL#1"}, "sk": {"S": "LINK"}}}},
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "MANIFEST#x"}, "sk": {"S": "y"}}}},
        ]
    }

    assert iam.partition_keys("BatchWriteItem", batch, HASH_KEYS) == [
        (TABLE, "1C#Catalog#a"),
        (TABLE, "MANIFEST#x"),
    ]
    # The deal sweep may write links, not manifests: one manifest key refuses the whole request.
    sweep_batch = signed_by("DealSweepFunction", "BatchWriteItem")
    assert checked.denial(sweep_batch, json.dumps(batch).encode()) is not None
    sweep_transaction = signed_by("DealSweepFunction", "TransactWriteItems")
    assert checked.denial(sweep_transaction, json.dumps(transaction).encode()) is not None


def test_a_transaction_needs_the_action_of_each_entry_not_one_of_its_own() -> None:
    # IAM has no TransactWriteItems action: the worker's policy names PutItem and
    # ConditionCheckItem, and that is what a link with a claim check needs.
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "B24#DEAL#1"}, "sk": {"S": "LINK"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "CLAIM#x"}, "sk": {"S": "CLAIM"}}}},
        ]
    }
    body = json.dumps(transaction).encode()

    assert policies().denial(signed_by("QueueWorkerFunction", "TransactWriteItems"), body) is None
    assert policies().denial(signed_by("SetupFunction", "TransactWriteItems"), body) is not None


def test_a_query_names_its_partition_key_through_an_attribute_name_too() -> None:
    body = {
        "TableName": TABLE,
        "KeyConditionExpression": "#k = :v AND begins_with(sk, :p)",
        "ExpressionAttributeNames": {"#k": "pk"},
        "ExpressionAttributeValues": {":v": {"S": "AUDIT#2026-12-04"}, ":p": {"S": "2026"}},
    }

    assert iam.partition_keys("Query", body, HASH_KEYS) == [(TABLE, "AUDIT#2026-12-04")]


@given(st.text(max_size=30))
def test_a_leading_keys_grant_allows_exactly_the_keys_its_pattern_matches(pk: str) -> None:
    grant = iam.Grant(frozenset({"GetItem"}), ("CONFIG#*",))
    checked = iam.DynamoDBPolicies({iam.access_key("F"): {TABLE: [grant]}}, HASH_KEYS)
    body = json.dumps({"TableName": TABLE, "Key": {"pk": {"S": pk}, "sk": {"S": "x"}}}).encode()

    refused = checked.denial(signed_by("F", "GetItem"), body)

    assert (refused is None) == pk.startswith("CONFIG#")


@pytest.fixture
def enforcing_moto() -> Iterator[tuple[MotoServer, str]]:
    server, url = start_moto()
    server.enforce(policies())
    yield server, url
    server.stop()


def client(url: str, access_key: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="eu-central-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="x",
    )


def test_over_http_moto_answers_what_dynamodb_answers_a_refused_request(
    enforcing_moto: tuple[MotoServer, str],
) -> None:
    _, url = enforcing_moto
    create_table_from_template(client(url, "testing"), "SyncTable", TABLE)
    sweep = client(url, iam.access_key("DealSweepFunction"))

    with pytest.raises(ClientError) as refused:
        sweep.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "MANIFEST#catalog-items"}},
        )

    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    sweep.put_item(TableName=TABLE, Item={"pk": {"S": "CURSOR#deal-sweep"}, "sk": {"S": "STATE"}})
    item = client(url, "testing").get_item(
        TableName=TABLE, Key={"pk": {"S": "CURSOR#deal-sweep"}, "sk": {"S": "STATE"}}
    )
    assert "Item" in item


@given(
    st.one_of(
        st.binary(max_size=60),
        st.recursive(
            st.none() | st.booleans() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "TableName",
                            "Key",
                            "Item",
                            "RequestItems",
                            "TransactItems",
                            "Keys",
                            "pk",
                            "PutRequest",
                            "Put",
                            "KeyConditionExpression",
                            "ExpressionAttributeValues",
                        ]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_a_body_of_any_shape_is_allowed_refused_or_called_malformed(body: bytes) -> None:
    checked = policies()

    def outcome(operation: str) -> str:
        try:
            refused = checked.denial(signed_by("DealSweepFunction", operation), body)
        except iam.MalformedRequest as malformed:
            return f"malformed: {malformed}"
        return refused or "allowed"

    for operation in ("GetItem", "PutItem", "Query", "BatchWriteItem", "BatchGetItem", "TransactWriteItems"):
        answer = outcome(operation)
        assert (
            answer == "allowed"
            or answer.startswith("malformed: the request body")
            or "not authorized" in answer
        )


def test_over_http_a_body_that_is_not_json_gets_dynamodbs_400_and_changes_nothing(
    enforcing_moto: tuple[MotoServer, str],
) -> None:
    _, url = enforcing_moto
    owner = client(url, "testing")
    if TABLE not in owner.list_tables()["TableNames"]:  # moto's backend outlives one server
        create_table_from_template(owner, "SyncTable", TABLE)
    headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential="
        f"{iam.access_key('DealSweepFunction')}/20261205/eu-central-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=x",
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        "Content-Type": "application/x-amz-json-1.0",
    }

    cut_short = put("B24#DEAL#malformed")[:-2]

    answer = httpx.post(url, content=cut_short, headers=headers)

    assert answer.status_code == 400
    assert answer.json()["__type"].endswith("#SerializationException")
    key = {"pk": {"S": "B24#DEAL#malformed"}, "sk": {"S": "x"}}
    assert "Item" not in owner.get_item(TableName=TABLE, Key=key)
