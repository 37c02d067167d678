"""The sandbox's moto front (`sandbox.moto_server`) keeps connections open as AWS's endpoints do,
and stops even while clients hold connections open."""

from __future__ import annotations

import threading

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
