"""`status`: the events queue and DLQ depth, each scheduled flow's last run and lag, the Bitrix24
rate budget, and the last 24 h of problems by flow and reason. Exit 1 when something needs a
person (dead letters, a late schedule, a failed last run)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

from bridge import aws, settings
from bridge.commands.output import report, say
from bridge.deps import sync_store
from bridge.errors import BridgeError
from bridge.oversight.status import Status, status

NAME = "status"
HELP = "queue and DLQ depth, scheduled flows' lag, rate budget, failures in the last 24 h"


def configure(parser: argparse.ArgumentParser) -> None:
    del parser  # no options: everything comes from the settings


def run(args: argparse.Namespace) -> int:
    del args
    try:
        runtime = settings.runtime_settings()
        sqs = aws.sqs_client(runtime.aws_endpoint_url) if runtime.queue_url else None
        rate = runtime.b24_rate_limit
        result = status(sync_store(), sqs, runtime.queue_url, burst=rate.burst, per_second=rate.per_second)
    except BridgeError as error:
        say(f"status: {error}")
        return 2
    for note in result.notes:
        say(f"status: {note}")
    return _print(result)


def _age(now: datetime, then: datetime | None) -> str:
    if then is None:
        return "never"
    seconds = int((now - then).total_seconds())
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m ago"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s ago"
    )


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        report("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _print(result: Status) -> int:
    attention = 0
    report(f"status at {result.now:%Y-%m-%d %H:%M:%S} UTC")
    report("")
    report("queues")
    _table(
        ("queue", "waiting", "in flight", "delayed"),
        [(q.name, str(q.visible), str(q.in_flight), str(q.delayed)) for q in result.queues],
    )
    attention += sum(q.visible + q.in_flight for q in result.queues if q.name == "dead letters")
    report("")
    report("scheduled flows")
    rows = []
    for run in result.runs:
        late = result.late(run)
        attention += late or run.outcome == "failed"
        state = "LATE" if late else (run.outcome or "")
        if run.outcome == "failed" and run.error:
            state = f"{state}: {run.error}" if late else f"failed: {run.error}"
        rows.append((run.flow, f"every {run.period_s // 60} min", _age(result.now, run.finished_at), state))
    _table(("flow", "schedule", "last run", "state"), rows)
    report("")
    rate = result.rate
    report(
        f"Bitrix24 rate budget: {rate.left:.0f} of {rate.burst} requests free "
        f"(refills {rate.per_second:g}/s); operating time is paced per Lambda from each answer"
    )
    report("")
    report("failures in the last 24 h")
    if not result.failures:
        report("none")
    else:
        _table(
            ("flow", "outcome", "count", "last", "last reason"),
            [
                (f.flow, f.outcome, str(f.count), _age(result.now, f.last_at), f.last_reason[:120])
                for f in result.failures
            ],
        )
    return 1 if attention else 0
