"""Entry points the Lambda handlers and the CLI share: resolve once, run within a time budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from bridge.catalog.nomenclature import sync_nomenclature
from bridge.catalog.progress import Sink
from bridge.catalog.report import RunReport
from bridge.catalog.resolved import ResolvedStore
from bridge.catalog.setup import ensure_resolved
from bridge.catalog.stock import refresh_stock, sync_stock

if TYPE_CHECKING:
    from bridge.deps import Ports


def deadline_after(seconds: float | None) -> Callable[[], bool]:
    """`should_stop` for a run that must end within `seconds` (None: no limit)."""
    if seconds is None:
        return lambda: False
    until = time.monotonic() + seconds
    return lambda: time.monotonic() >= until


def run_nomenclature(
    ports: Ports,
    *,
    store: ResolvedStore | None = None,
    dry_run: bool = False,
    budget_s: float | None = None,
    sink: Sink | None = None,
) -> RunReport:
    resolved = ensure_resolved(ports, store or ResolvedStore(ports.links), dry_run=dry_run)
    return sync_nomenclature(
        ports, resolved, dry_run=dry_run, sink=sink, should_stop=deadline_after(budget_s)
    )


def run_stock(
    ports: Ports,
    *,
    store: ResolvedStore | None = None,
    dry_run: bool = False,
    budget_s: float | None = None,
    sink: Sink | None = None,
) -> RunReport:
    resolved = ensure_resolved(ports, store or ResolvedStore(ports.links), dry_run=dry_run)
    return sync_stock(ports, resolved, dry_run=dry_run, sink=sink, should_stop=deadline_after(budget_s))


def run_refresh(
    product_ids: Iterable[int | str] | None,
    ports: Ports,
    *,
    store: ResolvedStore | None = None,
    budget_s: float | None = None,
) -> RunReport:
    """Given products now; None = every synced product (a stock run out of schedule)."""
    if product_ids is None:
        return run_stock(ports, store=store, budget_s=budget_s)
    resolved = ensure_resolved(ports, store or ResolvedStore(ports.links))
    return refresh_stock(product_ids, ports, resolved)
