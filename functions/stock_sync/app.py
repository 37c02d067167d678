"""Every 5 minutes (ScheduleV2): 1C stock balances → Bitrix24 product stock (bridge.catalog.stock)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.catalog.runs import run_stock
from bridge.deps import Ports, default_ports
from bridge.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    ports: Ports | None = None,
) -> dict[str, object]:
    ports = ports or default_ports()
    budget_s = context.get_remaining_time_in_millis() / 1000 - ports.mapping.catalog.stop_before_timeout_s
    report = run_stock(ports, budget_s=max(budget_s, 1.0))
    metrics.add_metric(
        name="StockQuantitiesWritten", unit=MetricUnit.Count, value=report.counts["quantities written"]
    )
    # Alarmed in template.yaml (StockItemsFailedAlarm).
    metrics.add_metric(name="StockItemsFailed", unit=MetricUnit.Count, value=report.failed)
    return report.as_dict()
