"""The project's command line (also `python -m bridge …`):

- `setup [--dry-run]`: prepare both systems for every flow;
- `catalog sync|stock [--dry-run]`: run the catalog flow now, with progress (counts, rate, ETA);
- `replay --dlq URL [--entity DEAL-42] [--dry-run] [--limit N]`: put dead-lettered events back on
  the events queue;
- `resync deal|order|company|counterparty|product KEY`: force one record through its flow now;
- `link-existing [--dry-run|--apply] [--csv PATH]`: before go-live, link open deals to orders
  already typed into 1C;
- `parties sync [--dry-run] [--limit N]`: the first load of counterparties ⇄ companies (resumable).

`--json` on these gives one JSON document instead of the readable report.

Settings come from the environment like the Lambdas' (`BRIDGE_*`, or `BRIDGE_SECRET_ID` for the
AWS secret). Each command is a module of `bridge.commands`; the output is one line per action and
per problem; the exit status is 1 when a problem remains, so a deploy pipeline can stop on it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bridge.commands import COMMANDS
from bridge.commands.output import logs_to_stderr


def main(argv: Sequence[str] | None = None) -> int:
    logs_to_stderr()
    parser = argparse.ArgumentParser(prog="python -m bridge.cli", description="1C:УНФ ⇄ Bitrix24 bridge")
    subparsers = parser.add_subparsers(dest="command", required=True)
    runs = {}
    for command in COMMANDS:
        command.configure(subparsers.add_parser(command.name, help=command.help))
        runs[command.name] = command.run
    args = parser.parse_args(argv)
    return runs[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
