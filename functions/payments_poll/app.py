"""Scheduled every minute: 1C payments, order states and sums → deals (logic: bridge.payments.poller)."""

from __future__ import annotations

from typing import Any

from bridge import deps
from bridge.handlers import Invocation, count, run_marker, scheduled, use
from bridge.payments.poller import poll


@scheduled
@run_marker("payments-poll")
def handler(run: Invocation) -> dict[str, Any]:
    report = poll(use(deps.payments_context)).as_dict()
    count("PaymentOrdersRecomputed", len(report["orders_recomputed"]))
    count("PaymentNotificationsSent", report["notified"])
    count("PaymentOrdersFailed", len(report["failed"]))
    return report
