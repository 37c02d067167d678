"""The last run of each scheduled flow, kept as a cursor `run-<flow>` so `status` can show its lag.

Written by the scheduled handlers (`bridge.handlers.run_marker`) at the end of each run: one read
and one write per run (every minute at most), never in a flow's own state.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit

from bridge.observability import metrics
from bridge.store import CursorConflict, SyncStore

# Scheduled flow → its period in seconds at the template's default schedules (status calls a
# flow late after three missed periods).
SCHEDULED: dict[str, int] = {
    "payments-poll": 60,
    "deal-sweep": 300,
    "catalog-sync": 900,
    "stock-sync": 300,
    "parties-sync": 300,
}


def cursor_name(flow: str) -> str:
    return f"run-{flow}"


@dataclass(frozen=True)
class LastRun:
    flow: str
    period_s: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str | None = None  # "ok" or "failed"
    error: str | None = None


def mark_run(
    store: SyncStore, flow: str, started_at: datetime, outcome: str, error: str | None = None
) -> None:
    name = cursor_name(flow)
    current = store.cursors.get(name)
    _measure(flow, started_at, outcome, current.value if current else None)
    value = {
        "started_at": started_at.isoformat(),
        "finished_at": store.table.now().isoformat(),
        "outcome": outcome,
        "error": error,
    }
    # A concurrent run of the same flow may have marked it a moment ago; either is the last run.
    with contextlib.suppress(CursorConflict):
        store.cursors.put(name, value, expected_version=current.version if current else None)


def last_runs(store: SyncStore) -> list[LastRun]:
    runs = []
    for flow, period in SCHEDULED.items():
        cursor = store.cursors.get(cursor_name(flow))
        if cursor is None:
            runs.append(LastRun(flow, period))
            continue
        value = cursor.value
        runs.append(
            LastRun(
                flow,
                period,
                started_at=datetime.fromisoformat(value["started_at"]),
                finished_at=datetime.fromisoformat(value["finished_at"]),
                outcome=value.get("outcome"),
                error=value.get("error"),
            )
        )
    return runs


def metric_suffix(flow: str) -> str:
    """`payments-poll` → `PaymentsPoll`: every Lambda shares one service dimension, so the flow is
    in the metric's name (`Runs<Flow>`, `RunFailures<Flow>`, `RunLagSeconds<Flow>`)."""
    return "".join(part.capitalize() for part in flow.split("-"))


def _measure(flow: str, started_at: datetime, outcome: str, previous: dict[str, object] | None) -> None:
    suffix = metric_suffix(flow)
    metrics.add_metric(name=f"Runs{suffix}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=f"RunFailures{suffix}", unit=MetricUnit.Count, value=int(outcome != "ok"))
    if previous is not None and isinstance(previous.get("finished_at"), str):
        gap = (started_at - datetime.fromisoformat(str(previous["finished_at"]))).total_seconds()
        metrics.add_metric(
            name=f"RunLagSeconds{suffix}", unit=MetricUnit.Seconds, value=max(round(gap, 3), 0.0)
        )
