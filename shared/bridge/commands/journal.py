"""`journal <kind> <key>`: one record's sync history, newest first (deal, order, company,
counterparty, product) — events received, decisions, writes and failures with their reasons."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bridge.commands.output import report, say
from bridge.commands.records import add_record_arguments, named_record
from bridge.deps import default_ports
from bridge.errors import BridgeError
from bridge.oversight.journal import Journal, journal

NAME = "journal"
HELP = "one record's sync history, newest first"

# The detail keys that say why, shown first; the rest follows as compact JSON.
_WHY = ("reason", "error", "detail", "text")


def configure(parser: argparse.ArgumentParser) -> None:
    add_record_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    asked = named_record("journal", args)
    if asked is None:
        return 2
    try:
        result = journal(asked, default_ports())
    except BridgeError as error:
        say(f"journal: {error}")
        return 2
    for note in result.notes:
        say(f"journal: {note}")
    if args.json:
        for line in result.lines:
            entry = line.entry
            report(
                json.dumps(
                    {"record": str(line.record), **entry.model_dump(mode="json", exclude={"expires_at"})},
                    ensure_ascii=False,
                )
            )
        return 0
    _print_table(result)
    return 0


def _print_table(result: Journal) -> None:
    report(f"journal of {result.asked}: {', '.join(map(str, result.records)) or 'nothing found'}")
    if not result.lines:
        report("no audit items (kept 30 days by default)")
        return
    rows = [
        (
            line.entry.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            str(line.record),
            line.entry.flow,
            line.entry.outcome,
            describe(line.entry.detail),
        )
        for line in result.lines
    ]
    header = ("at (UTC)", "record", "flow", "outcome", "detail")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        report(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        )


def describe(detail: dict[str, Any]) -> str:
    """The reason first, then the rest of the detail on one line."""
    why = [str(detail[k]) for k in _WHY if detail.get(k)]
    rest = {k: v for k, v in detail.items() if k not in _WHY}
    text = " — ".join(why)
    if rest:
        text = f"{text} {json.dumps(rest, ensure_ascii=False, sort_keys=True, default=str)}".strip()
    return text
