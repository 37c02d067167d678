"""`mapping push FILE` / `mapping show`: the customer's mapping in Parameter Store.

`push` validates the file (each problem names its key) and writes it to the parameter the
template names (`BRIDGE_MAPPING_PARAMETER`, or `--parameter`); nothing is written while a problem
remains. `show` prints the mapping the functions use now, after a TOML comment saying where it
came from, so its output can be edited and pushed back.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bridge import operations, settings
from bridge.commands.output import report, say
from bridge.errors import ConfigurationError

NAME = "mapping"
HELP = "push the customer's mapping to Parameter Store, or show the one in use"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    push = actions.add_parser("push", help="validate FILE and upload it (nothing is written on a problem)")
    push.add_argument("file", type=Path, help="the mapping, TOML (see config/mapping.default.toml)")
    push.add_argument("--parameter", default=None, help="parameter name (default: BRIDGE_MAPPING_PARAMETER)")
    actions.add_parser("show", help="print the effective mapping and where it comes from")


def run(args: argparse.Namespace) -> int:
    try:
        return _push(args.file, args.parameter) if args.action == "push" else _show()
    except ConfigurationError as error:
        say(f"mapping {args.action}: {error}")
        return 2


def _push(path: Path, parameter: str | None) -> int:
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        say(f"mapping push: cannot read {path}: {error.strerror}")
        return 2
    result = operations.push_mapping(text, parameter)
    if result.problems:
        for problem in result.problems:
            report(f"{path}: {problem}")
        report(f"not pushed: {len(result.problems)} problem(s); parameter {result.parameter} unchanged")
        return 1
    report(
        f"pushed {path} to parameter {result.parameter} (version {result.version}); "
        f"functions use it within {result.max_age_s:g} s"
    )
    return 0


def _show() -> int:
    effective = settings.read_effective_mapping()
    report(f"# effective mapping, from {effective.source}")
    report(effective.text.rstrip("\n"))
    return 0
