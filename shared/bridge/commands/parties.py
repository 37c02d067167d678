"""`parties sync [--dry-run] [--limit N] [--csv PATH] [--json]`: the first load of counterparties ⇄
companies now, with progress (count, rate, ETA). It resumes where it stopped: the 1C manifest in
SyncTable remembers every object already brought over."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from bridge import repair
from bridge.commands.output import emit_json, report, say
from bridge.commands.progress import progress
from bridge.deps import default_ports
from bridge.errors import ConfigurationError

NAME = "parties"
HELP = "1C counterparties ⇄ Bitrix24 companies now (the first load), resumable"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=("sync",))
    parser.add_argument("--dry-run", action="store_true", help="count what would be synced; write nothing")
    parser.add_argument("--limit", type=int, default=None, help="stop after this many 1C objects (resumable)")
    parser.add_argument("--csv", type=Path, default=None, help="also write each object's outcome to this CSV")
    parser.add_argument("--json", action="store_true", help="machine output (one JSON object)")


def run(args: argparse.Namespace) -> int:
    try:
        ports = default_ports()
        with progress("parties 1C → Bitrix24", plain=args.json) as tick:
            result = repair.parties_sync(ports, dry_run=args.dry_run, limit=args.limit, tick=tick)
    except ConfigurationError as error:
        say(f"parties: {error}")
        return 2
    if args.csv is not None:
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("object", "outcome"))
            writer.writerows(sorted(result.outcomes.items()))
            writer.writerows((key, f"failed: {why}") for key, why in sorted(result.failures.items()))
        say(f"parties: report written to {args.csv}")
    if args.json:
        emit_json(result.as_dict())
    else:
        for key, reason in sorted(result.failures.items()):
            report(f"failed  {key}: {reason}")
        report(result.summary())
    return 1 if result.failures else 0
