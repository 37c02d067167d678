"""Both emulators on free ports + a fresh SyncTable, wired into a `PartiesFlow` in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bridge.config.mapping import Mapping
from bridge.domain import directory
from bridge.parties.poller import RunReport, run
from bridge.parties.resolved import PartiesResolved, resolved_config
from bridge.parties.setup import setup
from bridge.parties.sync import PartiesFlow, parties_mapping
from bridge.store.resolved import ResolvedConfig
from tests.harness.emulators import EmulatorWorld, emulator_ports

WRITE_METHODS = ("add", "update", "delete", "set", "bind")


@dataclass
class World(EmulatorWorld):
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
    def onec_get(self, entity_set: str, ref: str) -> dict[str, Any]:
        return self.ports.onec.get(entity_set, ref)

    def onec_list(self, entity_set: str, **filters: str) -> list[dict[str, Any]]:
        condition = " and ".join(f"{k} eq '{v}'" for k, v in filters.items()) or None
        return self.ports.onec.list(entity_set, filter=condition)

    def b24_writes(self, since: int) -> list[dict[str, Any]]:
        return [c for c in self.b24_calls(since) if _is_b24_write(c)]

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
    with emulator_ports(table, dynamodb, Mapping()) as (b24, onec, ports):
        yield World(b24, onec, ports, resolved_config(ports.store))
