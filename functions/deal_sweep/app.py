"""Every 5 minutes: queue the deals whose 1C order may be behind (logic: bridge.deals.sweep)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.deals.sweep import sweep
from bridge.deps import Ports, default_ports
from bridge.observability import logger, metrics, tracer
from bridge.pipeline.queue import EventSender, event_sender


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    ports: Ports | None = None,
    sender: EventSender | None = None,
) -> dict[str, Any]:
    result = sweep(ports or default_ports(), sender or event_sender())
    metrics.add_metric(name="DealSweepQueued", unit=MetricUnit.Count, value=len(result.queued))
    logger.info(
        "deal sweep done",
        extra={
            "seen": result.seen,
            "queued": list(result.queued),
            "since": result.since,
            "until": result.until,
        },
    )
    return {"seen": result.seen, "queued": list(result.queued), "until": result.until}
