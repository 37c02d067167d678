"""The `<kind> <key>` arguments that name one record (`journal deal 42`, `resync order 000123`)."""

from __future__ import annotations

import argparse

from bridge.commands.output import say
from bridge.domain.records import RECORD_KINDS, BadRecord, RecordRef, parse_record

KEY_HELP = "deal/company/product id, 1C order number, counterparty ИНН, or a 1C Ref_Key"


def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=RECORD_KINDS, help="record kind")
    parser.add_argument("key", help=KEY_HELP)


def named_record(command: str, args: argparse.Namespace) -> RecordRef | None:
    """The record the arguments name; None (with the reason on stderr) when they name none."""
    try:
        return parse_record(args.kind, args.key)
    except BadRecord as error:
        say(f"{command}: {error}")
        return None
