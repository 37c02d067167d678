"""Scheduled every minute: 1C payments, order states and sums → deals (logic: bridge.payments.poller)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.observability import logger, metrics, tracer
from bridge.payments.poller import poll
from bridge.payments.recompute import PaymentsContext
from bridge.payments.wiring import default_context


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, ctx: PaymentsContext | None = None
) -> dict[str, Any]:
    report = poll(ctx or default_context()).as_dict()
    metrics.add_metric(
        name="PaymentOrdersRecomputed", unit=MetricUnit.Count, value=len(report["orders_recomputed"])
    )
    metrics.add_metric(name="PaymentNotificationsSent", unit=MetricUnit.Count, value=report["notified"])
    metrics.add_metric(name="PaymentOrdersFailed", unit=MetricUnit.Count, value=len(report["failed"]))
    return report
