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

from bridge.errors import ConfigurationError


def _setup(dry_run: bool) -> int:
    from bridge.deps import default_ports
    from bridge.setup import run_all

    try:
        ports = default_ports()
    except ConfigurationError as error:
        sys.stderr.write(f"setup: {error}\n")
        return 2
    report = run_all(ports, dry_run=dry_run)
    sys.stdout.write("\n".join(report.lines()) + "\n")
    return 0 if report.ok else 1


def _replay(dead_letter_url: str, limit: int | None) -> int:
    from bridge import aws
    from bridge.pipeline.replay import replay_dead_letters
    from bridge.settings import runtime_settings

    try:
        queue_url = runtime_settings().queue_url
    except ConfigurationError as error:
        sys.stderr.write(f"replay: {error}\n")
        return 2
    if not queue_url:
        sys.stderr.write("replay: bad setting: BRIDGE_QUEUE_URL: the events queue to replay into\n")
        return 2
    sqs = aws.sqs_client(runtime_settings().aws_endpoint_url)
    report = replay_dead_letters(sqs, dead_letter_url=dead_letter_url, queue_url=queue_url, limit=limit)
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
        from bridge.catalog.__main__ import main as catalog_main

        return catalog_main([args.what, *(["--dry-run"] if args.dry_run else [])])
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
