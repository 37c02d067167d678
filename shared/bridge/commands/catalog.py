"""`catalog sync|stock [--dry-run] [--json]`: run the catalog flow now, with progress (counts,
rate, ETA): a bar per stage on a terminal, the flow's progress lines on stderr otherwise."""

from __future__ import annotations

import argparse

from bridge import operations
from bridge.commands.output import emit_json, report
from bridge.commands.progress import progress_lines
from bridge.deps import default_ports

NAME = "catalog"
HELP = "1C nomenclature, prices and stock → Bitrix24 now"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=("sync", "stock"))
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    parser.add_argument("--json", action="store_true", help="machine output (one JSON object)")


def run(args: argparse.Namespace) -> int:
    with progress_lines(plain=args.json) as sink:
        result = operations.run_catalog(args.what, default_ports(), dry_run=args.dry_run, sink=sink)
    if args.json:
        emit_json({**result.as_dict(), "lines": result.lines, "summary": result.summary()})
        return 1 if result.failed else 0
    for line in result.lines:
        report(line)
    report(result.summary())
    return 1 if result.failed else 0
