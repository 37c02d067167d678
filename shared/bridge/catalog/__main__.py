"""`python -m bridge.catalog sync|stock [--dry-run]` (also `python -m bridge.cli catalog …`): the
catalog flow from a terminal. Setup (`python -m bridge.cli setup`, with the other
flows') must have run first.

Uses the configured settings (BRIDGE_* variables or the Secrets Manager secret), the same code
path as the scheduled functions; progress (counts, rate, ETA) goes to stderr.
"""

from __future__ import annotations

import argparse
import sys

from bridge.catalog.runs import run_nomenclature, run_stock
from bridge.deps import default_ports


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge.catalog", description=__doc__)
    parser.add_argument("command", choices=("sync", "stock"))
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    args = parser.parse_args(argv)
    ports = default_ports()
    run = run_nomenclature if args.command == "sync" else run_stock
    report = run(ports, dry_run=args.dry_run, sink=_say)
    for line in report.lines:
        sys.stdout.write(line + "\n")
    sys.stdout.write(report.summary() + "\n")
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
