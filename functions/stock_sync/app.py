"""Every 5 minutes (ScheduleV2): 1C stock balances → Bitrix24 product stock (bridge.catalog.stock)."""

from __future__ import annotations

from bridge.catalog.runs import run_stock
from bridge.handlers import Invocation, count, run_marker, scheduled


@scheduled
@run_marker("stock-sync")
def handler(run: Invocation) -> dict[str, object]:
    ports = run.ports
    report = run_stock(ports, budget_s=run.budget_s(ports.mapping.catalog.stop_before_timeout_s))
    count("StockQuantitiesWritten", report.counts["quantities written"])
    count("StockItemsFailed", report.failed)  # alarmed in template.yaml (StockItemsFailedAlarm)
    return report.as_dict()
