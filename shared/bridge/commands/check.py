"""`check [--allow-writes]`: is everything in place? One line per problem, exit 1 while any remains.

Reads both systems (reachable with the credentials, webhook scopes, OData publication, clocks),
runs setup as a dry run (funnels, stages, user fields, every name of the mapping), asks SyncTable
for setup's results, and runs the live-check probes, printing each answer it recorded.
"""

from __future__ import annotations

import argparse

from bridge import checks, operations, probes
from bridge.commands.output import report, say
from bridge.deps import default_ports
from bridge.errors import ConfigurationError
from bridge.ports import Ports
from bridge.setup import SetupReport

NAME = "check"
HELP = "verify both systems, the mapping and setup; one line per problem (exit 1 if any)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-writes",
        action="store_true",
        help="let probes that need a write create a test object and delete it again",
    )


def _dry_setup(ports: Ports) -> SetupReport:
    return operations.run_setup(ports, dry_run=True)


def run(args: argparse.Namespace) -> int:
    try:
        ports = default_ports()
    except ConfigurationError as error:
        say(f"check: {error}")
        return 2
    result = checks.run_checks(
        ports, dry_setup=_dry_setup, probes=probes.all_probes(allow_writes=args.allow_writes)
    )
    report("\n".join(result.lines()))
    return 0 if result.ok else 1
