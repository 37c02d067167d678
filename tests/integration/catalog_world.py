"""Both emulators on free ports + a fresh SyncTable, wired into the catalog flow in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.catalog.nomenclature import sync_nomenclature
from bridge.catalog.report import RunReport
from bridge.catalog.resolved import CatalogResolved, resolved_config
from bridge.catalog.setup import resolve, setup
from bridge.catalog.stock import sync_stock
from bridge.deps import Ports
from bridge.onec.client import ODataClient
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
WRITE_VERBS = ("add", "update", "delete", "set", "modify", "conduct", "cancel")


def is_b24_write(call: dict[str, Any]) -> bool:
    return call["method"] != "batch" and str(call["method"]).rsplit(".", 1)[-1] in WRITE_VERBS


@dataclass
class World:
    b24_server: RunningServer
    onec_server: RunningServer
    ports: Ports
    store: ResolvedConfig[CatalogResolved]

    def resolved(self, *, dry_run: bool = False) -> CatalogResolved:
        """What setup stored; the first call runs setup (a dry run only resolves, saving nothing)."""
        found = self.store.find()
        if found is not None:
            return found
        if dry_run:
            resolved, problems = resolve(self.ports, dry_run=True)
            assert resolved is not None, problems
            return resolved
        setup(self.ports, dry_run=False)
        return self.store.load()

    def sync(self, **options: Any) -> RunReport:
        return sync_nomenclature(self.ports, self.resolved(dry_run=options.get("dry_run", False)), **options)

    def stock(self, **options: Any) -> RunReport:
        return sync_stock(self.ports, self.resolved(dry_run=options.get("dry_run", False)), **options)

    def article(self, product_id: int) -> Any:
        """The article as a Bitrix24 user sees it: the "Артикул" property on the product card."""
        found = self.b24("catalog.productProperty.list", {"filter": {"iblockId": 23, "code": "ARTICLE"}})
        properties = found["productProperties"]
        assert len(properties) == 1, properties
        value = self.b24("catalog.product.get", {"id": product_id})["product"][
            f"property{properties[0]['id']}"
        ]
        return value["value"] if value else None

    def without_property_methods(self) -> None:
        """A portal whose REST has no catalog.productProperty.* (setup must take the fallback)."""
        for method in ("catalog.productProperty.list", "catalog.productProperty.add"):
            fault = {"method": method, "count": 1000, "status": 404, "error": "ERROR_METHOD_NOT_FOUND"}
            httpx.post(f"{self.b24_server.url}/_sandbox/faults", json=fault).raise_for_status()

    def b24(self, method: str, params: dict[str, Any] | None = None) -> Any:
        response = httpx.post(f"{self.b24_server.url}{WEBHOOK}{method}", json=params or {}, timeout=10)
        body = response.json()
        assert response.status_code == 200, body
        assert "error" not in body, body
        return body["result"]

    def b24_calls(self, since: int) -> list[dict[str, Any]]:
        return list(
            httpx.get(f"{self.b24_server.url}/_sandbox/calls", params={"since": since}).json()["calls"]
        )

    def b24_writes(self, since: int) -> list[dict[str, Any]]:
        return [c for c in self.b24_calls(since) if is_b24_write(c)]

    def b24_seq(self) -> int:
        return int(httpx.get(f"{self.b24_server.url}/_sandbox/calls").json()["cursor"])

    def table(self, name: str) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.b24_server.url}/_sandbox/tables/{name}").json())

    def onec_sandbox(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.onec_server.url}/_sandbox/{path}", json=body, timeout=10)
        assert response.is_success, response.text
        return response.json()

    def inventory(self, enabled: bool) -> None:
        httpx.post(f"{self.b24_server.url}/_sandbox/inventory", json={"enabled": enabled}).raise_for_status()


def start_world(table: str, dynamodb: Any, mapping: Mapping | None = None) -> Iterator[World]:
    b24 = serve_in_thread(create_b24(B24EmulatorConfig()), "127.0.0.1", None)
    port = free_port("127.0.0.1")
    onec = serve_in_thread(create_onec(OneCEmulatorConfig(port=port)), "127.0.0.1", port)
    client = B24Client(b24.url + WEBHOOK, limiter=LocalBucket(burst=10_000, per_second=10_000))
    odata = ODataClient(onec.url + ODATA, "odata", "odata")
    ports = Ports(b24=client, onec=odata, store=SyncStore(table, dynamodb), mapping=mapping or Mapping())
    try:
        yield World(b24, onec, ports, resolved_config(ports.store))
    finally:
        client.close()
        odata.close()
        b24.stop()
        onec.stop()
