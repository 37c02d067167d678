"""Scheduled parties sync: 1C → Bitrix24 manifest diff, then the Bitrix24 → 1C sweep."""

from __future__ import annotations

from typing import Any

from bridge import deps
from bridge.handlers import Invocation, count, run_marker, scheduled
from bridge.observability import logger
from bridge.parties.poller import run as run_parties


@scheduled
@run_marker("parties-sync")
def handler(run: Invocation) -> dict[str, Any]:
    report = run_parties(deps.parties_flow(run.ports))
    count("PartiesSynced", len(report.outcomes))
    count("PartiesFailed", len(report.failures))
    if report.failures:
        logger.warning("parties run had failures", extra={"failures": report.failures})
    return report.as_dict()
