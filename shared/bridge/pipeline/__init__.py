"""The event pipeline: Bitrix24 outbound event → receiver → SQS FIFO → worker → registered flow.

`models` (B24Event in, QueuedEvent on the queue), `receiver` (verify and enqueue), `queue` (SQS
adapter), `dispatch` (event → flow registry), `worker` (idempotent, retry-aware batch processing),
`idempotency` (Powertools records in SyncTable).
"""

from __future__ import annotations


def reset_caches() -> None:
    """Forget the cached clients and dependency bundles (tests and the local stack, after the
    environment changed). The flow registry is kept: flows register once per process."""
    from bridge import aws, deps
    from bridge.pipeline import idempotency, queue, worker

    for cached in (queue.event_sender, idempotency.default_persistence_layer, worker.default_worker_deps):
        cached.cache_clear()
    aws.reset()
    deps.sync_store.cache_clear()
