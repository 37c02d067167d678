"""`setup [--dry-run] [--on-aws]`: prepare both systems for every flow (idempotent); with
`--on-aws` the deployed SetupFunction does it and its report is printed."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from bridge import operations
from bridge.commands.output import emit_json, report, say
from bridge.deps import default_ports
from bridge.errors import ConfigurationError

NAME = "setup"
HELP = "prepare both systems for the flows (idempotent)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    parser.add_argument("--json", action="store_true", help="machine output (one JSON object)")
    parser.add_argument(
        "--on-aws",
        action="store_true",
        help="invoke the deployed SetupFunction (BRIDGE_SETUP_FUNCTION) and print its report",
    )


def run(args: argparse.Namespace) -> int:
    if args.on_aws:
        return _on_aws(args.dry_run)
    try:
        ports = default_ports()
    except ConfigurationError as error:
        say(f"setup: {error}")
        return 2
    result = operations.run_setup(ports, dry_run=args.dry_run)
    if args.json:
        emit_json({"ok": result.ok, **asdict(result)})
        return 0 if result.ok else 1
    report("\n".join(result.lines()))
    return 0 if result.ok else 1


def _on_aws(dry_run: bool) -> int:
    try:
        result = operations.run_setup_on_aws(dry_run=dry_run)
    except ConfigurationError as error:
        say(f"setup: {error}")
        return 2
    say(f"setup: ran by {result.function}")
    report("\n".join(result.lines))
    return 0 if result.ok else 1
