"""Both emulators on free ports, in this process, and the ports of a flow wired onto them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bridge import deps
from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.config.mapping import Mapping
from bridge.config.payments import PaymentsMapping, RegistryOptions
from bridge.onec.client import ODataClient
from bridge.ports import Ports
from bridge.store import SyncStore
from sandbox.b24 import create_app as create_b24
from sandbox.b24.config import B24EmulatorConfig
from sandbox.local.emulators import ODATA_PATH, WEBHOOK_PATH
from sandbox.onec import create_app as create_onec
from sandbox.onec.config import OneCEmulatorConfig
from sandbox.serve import RunningServer, free_port, serve_in_thread
from sandbox.world.payments import BIZPROC_TEMPLATE_ID, PaymentsWorld


@dataclass
class EmulatorWorld:
    """Both emulators in this process and a flow's ports onto them; reads as a person makes them."""

    b24_server: RunningServer
    onec_server: RunningServer
    ports: Ports

    def b24(self, method: str, params: dict[str, Any] | None = None) -> Any:
        response = httpx.post(f"{self.b24_server.url}{WEBHOOK_PATH}{method}", json=params or {}, timeout=10)
        body = response.json()
        assert response.status_code == 200, body
        assert "error" not in body, body
        return body["result"]

    def b24_calls(self, since: int) -> list[dict[str, Any]]:
        calls = httpx.get(f"{self.b24_server.url}/_sandbox/calls", params={"since": since}).json()["calls"]
        return list(calls)

    def b24_seq(self) -> int:
        return int(httpx.get(f"{self.b24_server.url}/_sandbox/calls").json()["cursor"])


@contextlib.contextmanager
def running_emulators() -> Iterator[tuple[RunningServer, RunningServer]]:
    """(Bitrix24, 1C) servers; the 1C one knows its own port (it writes absolute links)."""
    b24 = serve_in_thread(create_b24(B24EmulatorConfig()), "127.0.0.1", None)
    port = free_port("127.0.0.1")
    onec = serve_in_thread(create_onec(OneCEmulatorConfig(port=port)), "127.0.0.1", port)
    try:
        yield b24, onec
    finally:
        b24.stop()
        onec.stop()


@contextlib.contextmanager
def emulator_ports(
    table: str, dynamodb: Any, mapping: Mapping
) -> Iterator[tuple[RunningServer, RunningServer, Ports]]:
    """Fresh emulators and `Ports` onto them and `table`, with a client bucket that never paces."""
    with running_emulators() as (b24, onec):
        client = B24Client(b24.url + WEBHOOK_PATH, limiter=LocalBucket(burst=10_000, per_second=10_000))
        odata = ODataClient(onec.url + ODATA_PATH, "odata", "odata")
        try:
            yield b24, onec, deps.ports_for(client, odata, SyncStore(table, dynamodb), mapping)
        finally:
            client.close()
            odata.close()


def payments_world(
    servers: tuple[RunningServer, RunningServer], table: str, dynamodb: Any, mapping: Mapping
) -> PaymentsWorld:
    """Reset emulators and a `PaymentsWorld` on them, its setup done."""
    b24, onec = servers
    httpx.post(f"{b24.url}/_sandbox/reset")
    httpx.post(f"{onec.url}/_sandbox/reset")
    world = PaymentsWorld(b24.url + WEBHOOK_PATH, onec.url + ODATA_PATH, table, dynamodb, mapping)
    world.setup()
    return world


def bizproc_payments_world(
    servers: tuple[RunningServer, RunningServer], table: str, dynamodb: Any
) -> PaymentsWorld:
    """`payments_world` whose payment registry names the seeded business-process template."""
    registry = RegistryOptions(bizproc_template_id=BIZPROC_TEMPLATE_ID)
    return payments_world(servers, table, dynamodb, Mapping(payments=PaymentsMapping(registry=registry)))
