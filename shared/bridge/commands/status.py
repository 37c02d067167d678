"""`status [--json]`: the events queue and DLQ depth, each scheduled flow's last run and lag, the
Bitrix24 rate budget and operating-time headroom (the worst method, and one line per method past
half its budget), and the last 24 h of problems by flow and reason. Exit 1 when something needs a
person (dead letters, a late schedule, a failed last run, a method Bitrix24 blocked)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bridge import aws, settings
from bridge.b24.operating import BANDS, MethodOperating
from bridge.commands.output import emit_json, report, say
from bridge.deps import sync_store
from bridge.errors import BridgeError
from bridge.oversight.status import Status, status

NAME = "status"
HELP = "queue and DLQ depth, scheduled flows' lag, rate budget, failures in the last 24 h"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine output (one JSON object)")


def run(args: argparse.Namespace) -> int:
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
    if args.json:
        emit_json(_as_dict(result))
        return 1 if _attention(result) else 0
    return _print(result)


def _attention(result: Status) -> int:
    """How many things wait for a person."""
    dead = sum(q.visible + q.in_flight for q in result.queues if q.name == "dead letters")
    runs = sum(result.late(run) or run.outcome == "failed" for run in result.runs)
    return dead + runs + len(result.blocked())


def _epoch(value: float | None) -> str | None:
    return None if value is None else datetime.fromtimestamp(value, UTC).isoformat()


def _method_dict(method: MethodOperating, now: float) -> dict[str, Any]:
    return {
        "method": method.method,
        "used_s": round(method.used_s, 3),
        "budget_s": method.budget_s,
        "share": round(method.share, 4),
        "headroom_s": round(method.headroom_s, 3),
        "blocked": method.blocked(now),
        "blocked_until": _epoch(method.blocked_until),
        "reset_at": _epoch(method.reset_at),
        "seen_at": _epoch(method.seen_at),
    }


def _as_dict(result: Status) -> dict[str, Any]:
    now = result.now.timestamp()
    worst = result.worst
    return {
        "now": result.now.isoformat(),
        "queues": [asdict(q) for q in result.queues],
        "runs": [asdict(r) | {"late": result.late(r)} for r in result.runs],
        "rate": {"burst": result.rate.burst, "per_second": result.rate.per_second, "free": result.rate.left},
        "operating": {
            "methods": [_method_dict(m, now) for m in result.operating],
            "worst": None if worst is None else _method_dict(worst, now),
            "blocked": [m.method for m in result.blocked()],
        },
        "failures": [asdict(f) for f in result.failures],
        "notes": result.notes,
        "attention": _attention(result),
    }


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
        f"Bitrix24 rate budget: {rate.left:.0f} of {rate.burst} requests free (refills {rate.per_second:g}/s)"
    )
    attention += _print_operating(result)
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


def _print_operating(result: Status) -> int:
    """The worst method's headroom, then a line per method past half its budget; the number of
    methods Bitrix24 blocked (each a problem)."""
    worst = result.worst
    if worst is None:
        report("Bitrix24 operating time: no method reported any in the last 10 min")
        return 0
    now = result.now.timestamp()
    seen = _age(result.now, datetime.fromtimestamp(worst.seen_at, UTC))
    report(
        f"Bitrix24 operating time: {worst.headroom_s:.0f} of {worst.budget_s:.0f} s headroom on the "
        f"busiest method {worst.method} ({worst.share:.0%} used in 10 min, seen {seen})"
    )
    for method in result.operating:
        if method.blocked(now):
            until = datetime.fromtimestamp(method.blocked_until or now, UTC)
            report(
                f"  PROBLEM {method.method}: blocked by Bitrix24 until {until:%H:%M:%S} UTC "
                "(429 OPERATION_TIME_LIMIT); its calls wait or go back to the queue"
            )
        elif method.share >= BANDS[0]:
            report(
                f"  {method.method}: {method.used_s:.0f} of {method.budget_s:.0f} s used "
                f"({method.share:.0%}), {method.headroom_s:.0f} s left; seen "
                f"{_age(result.now, datetime.fromtimestamp(method.seen_at, UTC))}"
            )
    return len(result.blocked())
