"""SQS FIFO events queue → the flow wired for each event (logic: bridge.pipeline.worker)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from bridge import deps
from bridge.handlers import Invocation, scheduled, use
from bridge.pipeline.worker import Worker, WorkerDeps

_workers: dict[int, Worker] = {}


def _worker(wiring: WorkerDeps) -> Worker:
    # One Worker per dependency bundle: the idempotent wrapper is built once per process, not per batch.
    key = id(wiring)
    if key not in _workers:
        _workers.clear()
        _workers[key] = Worker(wiring)
    return _workers[key]


@scheduled
def handler(run: Invocation) -> PartialItemFailureResponse:
    return _worker(use(deps.worker_deps)).process_batch(run.event, run.context)
