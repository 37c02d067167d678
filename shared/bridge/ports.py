"""`Ports`: the adapters a flow works with, as one bundle.

`bridge.deps` builds them from settings (and tests or the sandbox from their own emulators); every
flow takes them as an argument. They live below the flows, apart from the wiring, so a flow names
its dependencies without importing the layer that builds them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.b24.client import B24Client
    from bridge.config.mapping import Mapping
    from bridge.domain.events import EventSender
    from bridge.onec.client import ODataClient
    from bridge.store import SyncStore

type Clock = Callable[[], datetime]
# Brings the given Bitrix24 products' stock in line with 1C now. The deal flow calls it after it
# changed an order's rows; deps hands in the catalog flow's refresh, so deals never import catalog.
type StockRefresher = Callable[[Sequence[int], Ports], object]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Ports:
    b24: B24Client
    onec: ODataClient
    store: SyncStore
    mapping: Mapping
    queue: EventSender
    refresh_stock: StockRefresher
    clock: Clock = utc_now
