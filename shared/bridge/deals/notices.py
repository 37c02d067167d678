"""Telling people: a timeline comment on the deal (once per distinct problem), an audit item and
a metric. A replayed event or the sweep meeting the same problem again writes no second comment."""

from __future__ import annotations

import contextlib
import hashlib
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from bridge.deals.writeback import timeline_comment
from bridge.observability import logger, metrics
from bridge.ports import Ports
from bridge.store import CursorConflict

if TYPE_CHECKING:
    from bridge.ports import Ports

FLOW = "deals"


def notice_cursor(deal_id: int, channel: str | None = None) -> str:
    return f"deal-notice-{deal_id}" if channel is None else f"deal-notice-{deal_id}-{channel}"


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
    digest = hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()
    name = notice_cursor(deal_id, channel)
    current = ports.store.cursors.get(name)
    told = current is not None and current.value.get("digest") == digest
    if not told:
        ports.b24.call("crm.timeline.comment.add", timeline_comment(deal_id, text))
        with contextlib.suppress(CursorConflict):  # another worker told them at the same moment
            ports.store.cursors.put(
                name, {"digest": digest}, expected_version=current.version if current else None
            )
    ports.store.audit.record(FLOW, f"DEAL-{deal_id}", kind, {**detail, "text": text, "commented": not told})
    metrics.add_metric(name=f"Deal{kind}", unit=MetricUnit.Count, value=1)
    logger.warning(log_message, extra={"deal_id": deal_id, "problem": kind, "reason": text})
    return not told
