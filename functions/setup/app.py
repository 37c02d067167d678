"""On demand (`python -m bridge.cli setup --on-aws`, or a deploy pipeline): prepare both systems
for every flow from inside AWS, with the functions' own secret and mapping; the report is the
answer. Event: `{"dry_run": true}` reports what would change and changes nothing."""

from __future__ import annotations

from typing import Any

from bridge import operations
from bridge.handlers import Invocation, count, scheduled
from bridge.observability import logger


@scheduled
def handler(run: Invocation) -> dict[str, Any]:
    dry_run = bool(run.event.get("dry_run", False))
    report = operations.run_setup(run.ports, dry_run=dry_run)
    lines = report.lines()
    for line in lines:
        logger.info(line, extra={"step": "setup", "dry_run": dry_run})
    if not report.ok:
        count("SetupProblems", len(report.problems))
    return {"ok": report.ok, "dry_run": dry_run, "lines": lines}
