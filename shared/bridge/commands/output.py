"""How every command speaks: the report on stdout, progress and diagnostics on stderr."""

from __future__ import annotations

import json
import logging
import sys

from bridge.observability import logger


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


def logs_to_stderr() -> None:
    """The flows' structured log lines go to stderr under the CLI: in a Lambda they go to stdout
    (CloudWatch), but here stdout carries the report and `--json` must stay one document."""
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
        handler.setStream(sys.stderr)
