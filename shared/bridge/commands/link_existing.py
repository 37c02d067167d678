"""`link-existing [--dry-run|--apply] [--csv PATH] [--json]`: before go-live, match open deals to orders
already typed into 1C; with `--apply`, link the matches so the deal's first edit updates that order."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from bridge import repair
from bridge.commands.output import emit_json, report, say
from bridge.commands.progress import progress
from bridge.deals.existing import MatchRow
from bridge.deps import default_ports
from bridge.errors import ConfigurationError

NAME = "link-existing"
HELP = "match open deals to orders typed into 1C before go-live (dry run unless --apply)"

COLUMNS = ("deal", "title", "verdict", "by", "orders", "order_refs", "linked", "problem")


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="report only, link nothing (the default)")
    mode.add_argument("--apply", action="store_true", help="link every matched deal to its order")
    parser.add_argument("--csv", type=Path, default=None, help="also write the report to this CSV file")
    parser.add_argument("--json", action="store_true", help="machine output (one JSON object)")


def write_csv(path: Path, rows: list[MatchRow]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.as_csv())


def table(rows: list[MatchRow]) -> list[str]:
    """A plain aligned table (it reads the same in a terminal, a log and a ticket)."""
    cells = [dict(zip(COLUMNS[:5], COLUMNS[:5], strict=True))] + [row.as_csv() for row in rows]
    widths = {c: min(max(len(cell[c]) for cell in cells), 40) for c in COLUMNS[:5]}
    return ["  ".join(cell[c][:40].ljust(widths[c]) for c in COLUMNS[:5]).rstrip() for cell in cells]


def run(args: argparse.Namespace) -> int:
    try:
        ports = default_ports()
        with progress("link-existing: open deals", plain=args.json) as tick:
            result = repair.link_existing(ports, apply=args.apply, tick=tick)
    except ConfigurationError as error:
        say(f"link-existing: {error}")
        return 2
    if args.csv is not None:
        write_csv(args.csv, result.rows)
        say(f"link-existing: report written to {args.csv}")
    if args.json:
        emit_json(result.as_dict())
        return 1 if any(row.problem for row in result.rows) else 0
    for line in table(result.rows):
        report(line)
    failed = [row for row in result.rows if row.problem]
    for row in failed:
        report(f"not linked: deal {row.deal_id}: {row.problem}")
    report(result.summary())
    return 1 if failed else 0
