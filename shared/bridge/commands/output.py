"""How every command speaks: the report on stdout, progress and diagnostics on stderr."""

from __future__ import annotations

import sys


def say(text: str) -> None:
    """Progress or a diagnostic (stderr, flushed at once)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def report(text: str) -> None:
    """A line of the command's result (stdout)."""
    sys.stdout.write(text + "\n")
