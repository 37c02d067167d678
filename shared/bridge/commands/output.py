"""How every command speaks: the report on stdout, progress and diagnostics on stderr."""

from __future__ import annotations

import json
import sys


def say(text: str) -> None:
    """Progress or a diagnostic (stderr, flushed at once)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def report(text: str) -> None:
    """A line of the command's result (stdout)."""
    sys.stdout.write(text + "\n")


def emit_json(value: object) -> None:
    """The command's result as one JSON document (stdout), for `--json`."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
