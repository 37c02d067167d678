"""Both emulators on free ports + a fresh SyncTable, wired into the catalog flow in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bridge.catalog.nomenclature import sync_nomenclature
from bridge.catalog.report import RunReport
from bridge.catalog.resolved import CatalogResolved, resolved_config
from bridge.catalog.setup import resolve, setup
from bridge.catalog.stock import sync_stock
from bridge.config.mapping import Mapping
from bridge.store.resolved import ResolvedConfig
from sandbox.onec.seed import NOMENCLATURE_FOLDERS
from tests.harness.emulators import EmulatorWorld, emulator_ports

WRITE_VERBS = ("add", "update", "delete", "set", "modify", "conduct", "cancel")


def is_b24_write(call: dict[str, Any]) -> bool:
    return call["method"] != "batch" and str(call["method"]).rsplit(".", 1)[-1] in WRITE_VERBS


def section_path(sections: list[dict[str, Any]], section_id: int | None) -> list[str]:
    """Names from the root section down to `section_id` (Bitrix24's catalog tree)."""
    by_id = {s["id"]: s for s in sections}
    path: list[str] = []
    while section_id:
        path.insert(0, by_id[section_id]["name"])
        section_id = by_id[section_id]["iblockSectionId"]
    return path


def folder_path(folder: str) -> list[str]:
    """Names from the root 1C nomenclature folder down to `folder` (the seeded tree)."""
    parents = dict(NOMENCLATURE_FOLDERS)
    path: list[str] = []
    while folder:
        path.insert(0, folder)
        folder = parents[folder]
    return path


@dataclass
class World(EmulatorWorld):
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

    def b24_writes(self, since: int) -> list[dict[str, Any]]:
        return [c for c in self.b24_calls(since) if is_b24_write(c)]

    def table(self, name: str) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.b24_server.url}/_sandbox/tables/{name}").json())

    def section_path(self, section_id: int | None) -> list[str]:
        return section_path(self.table("sections"), section_id)

    def onec_sandbox(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.onec_server.url}/_sandbox/{path}", json=body, timeout=10)
        assert response.is_success, response.text
        return response.json()

    def inventory(self, enabled: bool) -> None:
        httpx.post(f"{self.b24_server.url}/_sandbox/inventory", json={"enabled": enabled}).raise_for_status()


def start_world(table: str, dynamodb: Any, mapping: Mapping | None = None) -> Iterator[World]:
    with emulator_ports(table, dynamodb, mapping or Mapping()) as (b24, onec, ports):
        yield World(b24, onec, ports, resolved_config(ports.store))
