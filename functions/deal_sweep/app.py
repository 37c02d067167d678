"""Every 5 minutes: queue the deals whose 1C order may be behind (logic: bridge.deals.sweep)."""

from __future__ import annotations

from typing import Any

from bridge.deals.sweep import sweep
from bridge.handlers import Invocation, count, run_marker, scheduled
from bridge.observability import logger


@scheduled
@run_marker("deal-sweep")
def handler(run: Invocation) -> dict[str, Any]:
    ports = run.ports
    result = sweep(ports, ports.queue)
    count("DealSweepQueued", len(result.queued))
    done = {"seen": result.seen, "queued": list(result.queued), "until": result.until}
    logger.info("deal sweep done", extra={**done, "since": result.since})
    return done
