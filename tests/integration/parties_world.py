"""Both emulators on free ports + a fresh SyncTable, wired into a `PartiesFlow` in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.deals import directory
from bridge.deps import Ports
from bridge.onec.client import ODataClient
from bridge.parties.poller import RunReport, run
from bridge.parties.resolved import PartiesResolved, resolved_config
from bridge.parties.setup import setup
from bridge.parties.sync import PartiesFlow, parties_mapping
from bridge.settings import Mapping
from bridge.store import SyncStore
from bridge.store.resolved import ResolvedConfig
from sandbox.b24 import create_app as create_b24
from sandbox.b24.config import B24EmulatorConfig
from sandbox.onec import create_app as create_onec
from sandbox.onec.config import OneCEmulatorConfig
from sandbox.serve import RunningServer, free_port, serve_in_thread

WEBHOOK = "/rest/1/sandbox/"
ODATA = "/unf/odata/standard.odata/"
WRITE_METHODS = ("add", "update", "delete", "set", "bind")


@dataclass
class World:
    b24_server: RunningServer
    onec_server: RunningServer
    ports: Ports
    store: ResolvedConfig[PartiesResolved]

    @property
    def b24_url(self) -> str:
        return self.b24_server.url

    @property
    def onec_url(self) -> str:
        return self.onec_server.url

    def flow(self) -> PartiesFlow:
        if self.store.find() is None:  # setup runs before the flows; the first flow of a world runs it
            setup(self.ports, dry_run=False)
        return PartiesFlow(self.ports, self.store.load(), parties_mapping(self.ports))

    def run(self) -> RunReport:
        return run(self.flow())

    # -- direct access, as a person would act ------------------------------------------------
    def b24(self, method: str, params: dict[str, Any] | None = None) -> Any:
        response = httpx.post(f"{self.b24_url}{WEBHOOK}{method}", json=params or {}, timeout=10)
        body = response.json()
        assert response.status_code == 200, body
        assert "error" not in body, body
        return body["result"]

    def onec_get(self, entity_set: str, ref: str) -> dict[str, Any]:
        return self.ports.onec.get(entity_set, ref)

    def onec_list(self, entity_set: str, **filters: str) -> list[dict[str, Any]]:
        condition = " and ".join(f"{k} eq '{v}'" for k, v in filters.items()) or None
        return self.ports.onec.list(entity_set, filter=condition)

    def b24_writes(self, since: int) -> list[dict[str, Any]]:
        calls = httpx.get(f"{self.b24_url}/_sandbox/calls", params={"since": since}).json()["calls"]
        return [c for c in calls if _is_b24_write(c)]

    def b24_seq(self) -> int:
        return int(httpx.get(f"{self.b24_url}/_sandbox/calls").json()["cursor"])

    def onec_writes(self, since: int) -> list[dict[str, Any]]:
        calls = httpx.get(f"{self.onec_url}/_sandbox/calls", params={"since": since}).json()["calls"]
        return [c for c in calls if c["method"] in ("POST", "PATCH", "DELETE")]

    def onec_seq(self) -> int:
        return int(httpx.get(f"{self.onec_url}/_sandbox/calls").json()["last_seq"])


def _is_b24_write(call: dict[str, Any]) -> bool:
    return str(call["method"]).rsplit(".", 1)[-1] in WRITE_METHODS


def start_world(table: str, dynamodb: Any) -> Iterator[World]:
    # The employee directory is cached per client object id; a new world must not see an old one's.
    directory.forget()
    b24 = serve_in_thread(create_b24(B24EmulatorConfig()), "127.0.0.1", None)
    port = free_port("127.0.0.1")
    onec = serve_in_thread(create_onec(OneCEmulatorConfig(port=port)), "127.0.0.1", port)
    client = B24Client(b24.url + WEBHOOK, limiter=LocalBucket(burst=10_000, per_second=10_000))
    odata = ODataClient(onec.url + ODATA, "odata", "odata")
    ports = Ports(b24=client, onec=odata, store=SyncStore(table, dynamodb), mapping=Mapping())
    try:
        yield World(b24, onec, ports, resolved_config(ports.store))
    finally:
        client.close()
        odata.close()
        b24.stop()
        onec.stop()
