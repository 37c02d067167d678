"""Telling people: a timeline comment on the deal (once per distinct problem), an audit item and
a metric. A replayed event or the sweep meeting the same problem again writes no second comment."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bridge.notices import notice_cursor as shared_cursor
from bridge.notices import tell_once
from bridge.observability import logger, metrics
from bridge.ports import Ports

FLOW = "deals"


def notice_cursor(deal_id: int, channel: str | None = None) -> str:
    return shared_cursor("deal", deal_id, channel)


def notify_problem(
    ports: Ports,
    deal_id: int,
    kind: str,
    text: str,
    detail: dict[str, Any],
    *,
    channel: str | None = None,
    log_message: str = "deal not synced",
) -> bool:
    """Comment, audit, count. Returns whether a comment was written (False: already told).

    Without `channel`, one "last problem" is remembered per deal (a problem that comes back after
    another one is told again). A `channel` keeps its own memory, for notices that accompany a
    successful sync (the default manager, a manual amount): each distinct text once per deal.
    """
    commented = tell_once(
        ports, "deal", deal_id, flow=FLOW, kind=kind, text=text, detail=detail, channel=channel
    )
    metrics.add_metric(name=f"Deal{kind}", unit=MetricUnit.Count, value=1)
    logger.warning(log_message, extra={"deal_id": deal_id, "problem": kind, "reason": text})
    return commented
