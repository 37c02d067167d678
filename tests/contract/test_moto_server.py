"""The sandbox's moto front (`sandbox.moto_server`) keeps connections open as AWS's endpoints do,
stops even while clients hold connections open, and delivers every answer whole under
concurrent clients."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import boto3
import httpx
import pytest

from sandbox.moto_server import start_moto
from tests.conftest import REGION

pytestmark = pytest.mark.contract

LIST_TABLES = {
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": (
        f"AWS4-HMAC-SHA256 Credential=testing/20261204/{REGION}/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0"
    ),
}


def test_one_connection_carries_many_requests(moto_endpoint: str) -> None:
    seen: set[tuple[str, int]] = set()
    with httpx.Client(base_url=moto_endpoint) as client:
        for _ in range(5):
            answer = client.post("/", headers=LIST_TABLES, content=b"{}")
            assert answer.status_code == 200
            assert "TableNames" in answer.json()
            assert answer.headers.get("connection", "").lower() != "close"
            stream = answer.extensions["network_stream"]
            seen.add(stream.get_extra_info("client_addr"))
    # werkzeug's server (moto's own) closes after every answer: five requests, five sockets.
    assert len(seen) == 1


def test_stop_returns_while_a_client_keeps_its_connection_open() -> None:
    server, url = start_moto()
    client = httpx.Client(base_url=url)
    assert client.post("/", headers=LIST_TABLES, content=b"{}").status_code == 200
    stopped = threading.Event()

    def stop() -> None:
        server.stop()
        stopped.set()

    threading.Thread(target=stop, daemon=True).start()
    # Not a timing assertion: a loop that waits for the kept-alive socket never returns at all.
    assert stopped.wait(timeout=30)
    client.close()
    with pytest.raises(httpx.TransportError):
        httpx.post(url, headers=LIST_TABLES, content=b"{}", timeout=2)


def test_answers_bigger_than_a_socket_buffer_arrive_whole_under_concurrent_clients(
    dynamodb: Any, moto_endpoint: str
) -> None:
    # A running request's connection is not polled for writing (`_QuietChannel`): whatever the
    # connections' tasks write side by side must still reach each client whole.
    table = _new_table(dynamodb)
    payloads = {f"item{n}": (f"{n}-" + "я" * 150_000) for n in range(8)}  # 300 KB each as UTF-8
    for key, payload in payloads.items():
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}, "body": {"S": payload}})
    answers: list[tuple[str, str]] = []
    scanned_rows: list[int] = []
    failures: list[BaseException] = []

    def read(key: str) -> None:
        client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)
        try:
            for _ in range(3):
                item = client.get_item(TableName=table, Key={"pk": {"S": key}})["Item"]
                answers.append((key, item["body"]["S"]))
            scanned = client.scan(TableName=table)["Items"]  # one page: DynamoDB's 1 MB
            scanned_rows.append(len(scanned))
            answers.extend((row["pk"]["S"], row["body"]["S"]) for row in scanned)
        except BaseException as error:  # handed to the test thread
            failures.append(error)

    readers = [threading.Thread(target=read, args=(key,)) for key in payloads]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert failures == []
    assert min(scanned_rows) >= 2  # every scan answer held at least 600 KB
    assert len(answers) == 8 * 3 + sum(scanned_rows)
    assert all(body == payloads[key] for key, body in answers)


def test_what_a_request_could_not_send_at_once_goes_out_after_it(dynamodb: Any) -> None:
    # 15 MB in one answer is more than the socket takes while the task writes it: the rest is
    # sent by the server's loop once the task has ended (`_QuietChannel`), or never.
    table = _new_table(dynamodb)
    keys = [f"k{n:02d}" for n in range(40)]
    for key in keys:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}, "body": {"S": key * 125_000}})
    found = dynamodb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": key}} for key in keys]}})
    rows = found["Responses"][table]
    unprocessed = found.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    assert len(rows) + len(unprocessed) == len(keys)
    assert len(rows) >= 30  # at least 11 MB in this one answer
    assert all(row["body"]["S"] == row["pk"]["S"] * 125_000 for row in rows)


def _new_table(dynamodb: Any) -> str:
    name = f"Answers-{uuid.uuid4().hex[:6]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name
