"""Entry points the Lambda handlers and the CLI share: read what setup resolved, run within a time budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, Unpack

from bridge.catalog.nomenclature import sync_nomenclature
from bridge.catalog.progress import RunOptions, Sink
from bridge.catalog.report import RunReport
from bridge.catalog.resolved import CatalogResolved, resolved_config
from bridge.catalog.stock import refresh_stock, sync_stock

if TYPE_CHECKING:
    from bridge.ports import Ports


def deadline_after(seconds: float | None) -> Callable[[], bool]:
    """`should_stop` for a run that must end within `seconds` (None: no limit)."""
    if seconds is None:
        return lambda: False
    until = time.monotonic() + seconds
    return lambda: time.monotonic() >= until


class CatalogSync(Protocol):
    def __call__(
        self, ports: Ports, resolved: CatalogResolved, /, **options: Unpack[RunOptions]
    ) -> RunReport: ...


class BudgetedRun(Protocol):
    def __call__(
        self, ports: Ports, *, dry_run: bool = False, budget_s: float | None = None, sink: Sink | None = None
    ) -> RunReport: ...


def _budgeted(sync: CatalogSync) -> BudgetedRun:
    """`sync` with what setup resolved, ending within `budget_s`."""

    def run(
        ports: Ports, *, dry_run: bool = False, budget_s: float | None = None, sink: Sink | None = None
    ) -> RunReport:
        resolved = resolved_config(ports.store).load()
        return sync(ports, resolved, dry_run=dry_run, sink=sink, should_stop=deadline_after(budget_s))

    return run


run_nomenclature = _budgeted(sync_nomenclature)
run_stock = _budgeted(sync_stock)


def run_refresh(
    product_ids: Iterable[int | str] | None,
    ports: Ports,
    *,
    budget_s: float | None = None,
) -> RunReport:
    """Given products now; None = every synced product (a stock run out of schedule)."""
    if product_ids is None:
        return run_stock(ports, budget_s=budget_s)
    return refresh_stock(product_ids, ports, resolved_config(ports.store).load())
