"""The event pipeline: Bitrix24 outbound event → receiver → SQS FIFO → worker → the event's flow.

`models` (B24Event in; the queued message is `bridge.domain.events`), `receiver` (verify and
enqueue), `queue` (SQS adapter), `dispatch` (the event → flow table it is given), `worker`
(idempotent, retry-aware batch processing), `idempotency` (Powertools records in SyncTable).
The pipeline imports no flow and builds nothing: `bridge.deps` wires it.
"""
