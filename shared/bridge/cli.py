"""The project's command line (also `python -m bridge …`):

- `setup [--dry-run]`: prepare both systems for every flow;
- `catalog sync|stock [--dry-run]`: run the catalog flow now, with progress (counts, rate, ETA);
- `replay --dlq URL [--limit N]`: put dead-lettered events back on the events queue.

Settings come from the environment like the Lambdas' (`BRIDGE_*`, or `BRIDGE_SECRET_ID` for the
AWS secret). The output is one line per action and per problem; the exit status is 1 when a
problem remains, so a deploy pipeline can stop on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bridge import operations
from bridge.deps import default_ports
from bridge.errors import ConfigurationError


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _setup(dry_run: bool) -> int:
    try:
        ports = default_ports()
    except ConfigurationError as error:
        sys.stderr.write(f"setup: {error}\n")
        return 2
    report = operations.run_setup(ports, dry_run=dry_run)
    sys.stdout.write("\n".join(report.lines()) + "\n")
    return 0 if report.ok else 1


def _catalog(what: str, dry_run: bool) -> int:
    # Progress (counts, rate, ETA) goes to stderr, the report to stdout.
    report = operations.run_catalog(what, default_ports(), dry_run=dry_run, sink=_say)
    for line in report.lines:
        sys.stdout.write(line + "\n")
    sys.stdout.write(report.summary() + "\n")
    return 1 if report.failed else 0


def _replay(dead_letter_url: str, limit: int | None) -> int:
    try:
        report = operations.replay(dead_letter_url, limit)
    except ConfigurationError as error:
        sys.stderr.write(f"replay: {error}\n")
        return 2
    sys.stdout.write(f"replayed {report.replayed} event(s); {report.left} left in the dead-letter queue\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge.cli", description="1C:УНФ ⇄ Bitrix24 bridge")
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup", help="prepare both systems for the flows (idempotent)")
    setup.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    catalog = commands.add_parser("catalog", help="1C nomenclature, prices and stock → Bitrix24 now")
    catalog.add_argument("what", choices=("sync", "stock"))
    catalog.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    replay = commands.add_parser("replay", help="move dead-lettered events back to the events queue")
    replay.add_argument("--dlq", required=True, help="URL of the dead-letter queue (stack output)")
    replay.add_argument("--limit", type=int, default=None, help="at most this many messages")
    args = parser.parse_args(argv)
    if args.command == "replay":
        return _replay(args.dlq, args.limit)
    if args.command == "setup":
        return _setup(args.dry_run)
    if args.command == "catalog":
        return _catalog(args.what, args.dry_run)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
