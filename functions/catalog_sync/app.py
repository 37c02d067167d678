"""Every 15 minutes (ScheduleV2): 1C nomenclature, groups and prices → Bitrix24 catalog (bridge.catalog)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.catalog.runs import run_nomenclature
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
    # Stop starting batches before Lambda's own timeout; the next run resumes from the manifests.
    budget_s = context.get_remaining_time_in_millis() / 1000 - ports.mapping.catalog.stop_before_timeout_s
    report = run_nomenclature(ports, budget_s=max(budget_s, 1.0))
    for name, count in report.counts.items():
        metrics.add_metric(
            name="Catalog" + "".join(w.title() for w in name.split()), unit=MetricUnit.Count, value=count
        )
    # Alarmed in template.yaml (CatalogItemsFailedAlarm).
    metrics.add_metric(name="CatalogItemsFailed", unit=MetricUnit.Count, value=report.failed)
    return report.as_dict()
