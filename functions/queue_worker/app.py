"""SQS FIFO events queue → the flow registered for each event (logic: bridge.pipeline.worker)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.observability import logger, metrics, tracer
from bridge.pipeline.worker import Worker, WorkerDeps, default_worker_deps

_workers: dict[int, Worker] = {}


def _worker(deps: WorkerDeps) -> Worker:
    # One Worker per dependency bundle: the idempotent wrapper is built once per process, not per batch.
    key = id(deps)
    if key not in _workers:
        _workers.clear()
        _workers[key] = Worker(deps)
    return _workers[key]


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, deps: WorkerDeps | None = None
) -> PartialItemFailureResponse:
    return _worker(deps or default_worker_deps()).process_batch(event, context)
