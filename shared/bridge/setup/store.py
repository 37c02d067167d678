"""Resolved configuration in SyncTable: item pk `CONFIG#<flow>`, sk `RESOLVED`, JSON in `value`.

Setup writes it; flows read it at run time (cached per process by the flow). The item lives
beside the links (`LinkStore.get_config`/`put_config`), so one table, one backup and one set of
permissions cover both. `ConfigStore` is the name setup and the flows use for that pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.links.items import CONFIG_SK as RESOLVED_SK
from bridge.links.items import config_pk

if TYPE_CHECKING:
    from bridge.links.store import LinkStore

__all__ = ["RESOLVED_SK", "ConfigStore", "config_pk"]


class ConfigStore:
    def __init__(self, links: LinkStore) -> None:
        self._links = links

    @classmethod
    def beside(cls, links: LinkStore) -> ConfigStore:
        return cls(links)

    def get(self, flow: str) -> dict[str, Any] | None:
        return self._links.get_config(flow)

    def put(self, flow: str, value: dict[str, Any]) -> None:
        self._links.put_config(flow, value)
