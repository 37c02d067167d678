"""Scheduled parties sync: 1C → Bitrix24 manifest diff, then the Bitrix24 → 1C sweep."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.observability import logger, metrics, tracer
from bridge.parties.events import default_flow
from bridge.parties.poller import run


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = run(default_flow())
    metrics.add_metric(name="PartiesSynced", unit="Count", value=len(report.outcomes))
    metrics.add_metric(name="PartiesFailed", unit="Count", value=len(report.failures))
    if report.failures:
        logger.warning("parties run had failures", extra={"failures": report.failures})
    return report.as_dict()
