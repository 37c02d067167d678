"""`replay --dlq URL [--entity DEAL-42] [--dry-run] [--limit N] [--json]`: put dead-lettered events
back on the events queue (all, or one record's)."""

from __future__ import annotations

import argparse
import re
from dataclasses import asdict

from bridge import operations
from bridge.commands.output import emit_json, report, say
from bridge.errors import ConfigurationError, TransientError

NAME = "replay"
HELP = "move dead-lettered events back to the events queue"

# A record's FIFO group, as the receiver names it: DEAL-42, COMPANY-7, CONTACT-3, …
_ENTITY = re.compile(r"^[A-Z][A-Z_]*-\d+$")


def entity_group(text: str) -> str:
    group = text.strip().upper()
    if not _ENTITY.match(group):
        raise argparse.ArgumentTypeError(f"{text!r}: an entity is KIND-ID, e.g. DEAL-42")
    return group


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dlq", required=True, help="URL of the dead-letter queue (stack output)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many messages")
    parser.add_argument(
        "--entity", type=entity_group, default=None, help="only this record's events, e.g. DEAL-42"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed, move nothing")
    parser.add_argument("--json", action="store_true", help="machine output (one JSON object)")


def run(args: argparse.Namespace) -> int:
    try:
        result = operations.replay(args.dlq, args.limit, entity=args.entity, dry_run=args.dry_run)
    except (ConfigurationError, TransientError) as error:
        say(f"replay: {error}")
        return 2
    if args.json:
        emit_json(asdict(result))
        return 0
    verb = "would replay" if result.dry_run else "replayed"
    for line in result.messages:
        report(f"{verb}: {line}")
    others = f"; {result.skipped} of other records left alone" if args.entity else ""
    count = len(result.messages) if result.dry_run else result.replayed
    report(f"{verb} {count} event(s){others}; {result.left} left in the dead-letter queue")
    return 0
