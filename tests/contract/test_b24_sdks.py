"""The official b24pysdk and the community fast_bitrix24 drive the emulator over HTTP.

b24pysdk always builds `https://{domain}/rest/...`, so the emulator is served over TLS with a
throw-away trustme CA and `REQUESTS_CA_BUNDLE` makes `requests` trust it. fast_bitrix24 takes the
webhook URL as given and talks plain http to a second server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIQueryLimitExceeded
from fast_bitrix24 import BitrixAsync

from sandbox.b24 import create_app
from sandbox.serve import RunningServer, serve_in_thread

pytestmark = pytest.mark.contract


@pytest.fixture
def tls_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RunningServer, Any]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    key_file, cert_file, ca_file = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "ca.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    app = create_app()
    server = serve_in_thread(app, ssl_keyfile=str(key_file), ssl_certfile=str(cert_file))
    yield server, app
    server.stop()


def sdk_client(server: RunningServer, **options: Any) -> Any:
    token = BitrixWebhook(domain=f"127.0.0.1:{server.port}", webhook_token="1/sandbox")
    return Client(token, **options)


def test_b24pysdk_deal_round_trip(tls_emulator: tuple[RunningServer, Any]) -> None:
    server, _ = tls_emulator
    client = sdk_client(server)
    deal_id = client.crm.deal.add(fields={"TITLE": "SDK", "OPPORTUNITY": 1500, "CURRENCY_ID": "RUB"}).result
    assert isinstance(deal_id, int)
    assert client.crm.deal.update(bitrix_id=deal_id, fields={"TITLE": "SDK 2"}).result is True
    deal = client.crm.deal.get(bitrix_id=deal_id).result
    assert deal["TITLE"] == "SDK 2"
    assert deal["OPPORTUNITY"] == "1500.00"
    listed = client.crm.deal.list(select=["ID", "TITLE"], filter={"ID": deal_id}).result
    assert listed == [{"ID": str(deal_id), "TITLE": "SDK 2"}]


def test_b24pysdk_batches_and_full_paging(tls_emulator: tuple[RunningServer, Any]) -> None:
    server, app = tls_emulator
    client = sdk_client(server)
    requests = {f"d{i}": client.crm.deal.add(fields={"TITLE": f"Batch {i}"}) for i in range(60)}
    batch = client.call_batches(requests).result
    assert not batch.result_error
    assert len(batch.result) == 60
    assert len(set(batch.result.values())) == 60
    for i in range(60):
        client.crm.deal.add(fields={"TITLE": f"More {i}"}).result  # noqa: B018
    everything = client.crm.deal.list(select=["ID"]).as_list().result
    assert len(everything) == 120
    assert len({d["ID"] for d in everything}) == 120
    fast = client.crm.deal.list(select=["ID"]).as_list_fast().result
    assert sorted(int(d["ID"]) for d in fast) == sorted(int(d["ID"]) for d in everything)
    batch_calls = [c for c in app.state.portal.journal if c["method"] == "batch"]
    assert len(batch_calls) >= 3  # 60 adds → 2 batches; as_list_fast chains pages in batches


def test_b24pysdk_raises_its_query_limit_error(tls_emulator: tuple[RunningServer, Any]) -> None:
    server, app = tls_emulator
    app.state.emulator.configure_limits({"enabled": True})
    client = sdk_client(server, max_retries=1)

    def burst() -> None:
        for _ in range(80):
            client.user.current().result  # noqa: B018

    with pytest.raises(BitrixAPIQueryLimitExceeded):
        burst()


@pytest.fixture
def plain_emulator() -> Iterator[tuple[RunningServer, Any]]:
    app = create_app()
    server = serve_in_thread(app)
    yield server, app
    server.stop()


def test_fast_bitrix24_get_all_pages_120_deals(plain_emulator: tuple[RunningServer, Any]) -> None:
    server, app = plain_emulator
    emulator = app.state.emulator
    for i in range(120):
        emulator.dispatcher.run("crm.deal.add", {"fields": {"TITLE": f"Fast {i}"}}, [])
    webhook = f"{server.url}/rest/1/sandbox/"

    async def fetch() -> Any:
        bitrix = BitrixAsync(webhook, verbose=False)
        return await bitrix.get_all("crm.deal.list", {"select": ["ID", "TITLE"]})

    deals = asyncio.run(fetch())
    assert len(deals) == 120
    assert sorted(int(d["ID"]) for d in deals) == list(range(1, 121))
