"""`replay --dlq URL [--limit N]`: put dead-lettered events back on the events queue."""

from __future__ import annotations

import argparse

from bridge import operations
from bridge.commands.output import report, say
from bridge.errors import ConfigurationError

NAME = "replay"
HELP = "move dead-lettered events back to the events queue"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dlq", required=True, help="URL of the dead-letter queue (stack output)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many messages")


def run(args: argparse.Namespace) -> int:
    try:
        result = operations.replay(args.dlq, args.limit)
    except ConfigurationError as error:
        say(f"replay: {error}")
        return 2
    report(f"replayed {result.replayed} event(s); {result.left} left in the dead-letter queue")
    return 0
