"""`resync <kind> <key> [--json]`: force one record through its flow now and print what was written."""

from __future__ import annotations

import argparse

from bridge import repair
from bridge.commands.output import emit_json, report, say
from bridge.commands.records import add_record_arguments, named_record
from bridge.deps import default_ports
from bridge.errors import ConfigurationError

NAME = "resync"
HELP = "force one record (deal, order, company, counterparty, product) through its flow now"


def configure(parser: argparse.ArgumentParser) -> None:
    add_record_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine output (one JSON object)")


def run(args: argparse.Namespace) -> int:
    record = named_record("resync", args)
    if record is None:
        return 2
    try:
        ports = default_ports()
    except ConfigurationError as error:
        say(f"resync: {error}")
        return 2
    result = repair.resync(record, ports)
    if args.json:
        emit_json(result.as_dict())
        return 0 if result.ok else 1
    report(f"resync {record}")
    for note in result.notes:
        report(f"  flow: {note}")
    for write in result.writes:
        report(f"  wrote: {write}")
    if not result.writes:
        report("  wrote: nothing")
    if result.problem:
        report(f"  problem: {result.problem}")
    return 0 if result.ok else 1
