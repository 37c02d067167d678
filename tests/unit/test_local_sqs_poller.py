"""The local stack's SQS poller runs as many worker invocations at once as the event source
mapping's ScalingConfig.MaximumConcurrency allows, as Lambda's pollers do (issue 15, P3)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sandbox.local.model import QueueSpec, SqsSourceSpec, load_model
from sandbox.local.sqs import SqsPoller
from sandbox.template import TEMPLATE_PATH

WAIT_S = 30.0  # only reached when the poller is wrong


class _Queue:
    """ReceiveMessage handing out one single-message batch per call, `batches` in all."""

    def __init__(self, batches: int) -> None:
        self._left = batches
        self._lock = threading.Lock()
        self.deleted: list[str] = []

    def receive_message(self, **_: Any) -> dict[str, Any]:
        with self._lock:
            if self._left == 0:
                return {"Messages": []}
            self._left -= 1
            n = self._left
        message = {
            "MessageId": f"00000000-0000-0000-0000-{n:012d}",
            "ReceiptHandle": f"r{n}",
            "Body": "{}",
            "MD5OfBody": "x",
            "Attributes": {"MessageGroupId": f"DEAL-{n}"},
        }
        return {"Messages": [message]}

    def delete_message_batch(self, **kwargs: Any) -> None:
        with self._lock:
            self.deleted.extend(e["ReceiptHandle"] for e in kwargs["Entries"])


class _Invocation:
    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.outcome = "ok"
        self.result: dict[str, Any] = {"batchItemFailures": []}
        self.error = None
        self.notes: dict[str, Any] = {}


class _Invoker:
    """Each invocation waits at a barrier for `together` of them: it passes only when that many
    run at the same time."""

    def __init__(self, together: int) -> None:
        self.barrier = threading.Barrier(together, timeout=WAIT_S)
        self.met = threading.Event()
        self.broken = threading.Event()

    def invoke(self, function: str, event: Any, *, trigger: str, source: str, after: Any) -> None:
        try:
            self.barrier.wait()
            self.met.set()
        except threading.BrokenBarrierError:
            self.broken.set()
        invocation = _Invocation(event)
        after(invocation)


def _poller(concurrency: int, queue: _Queue, invoker: _Invoker) -> SqsPoller:
    source = SqsSourceSpec(
        function="QueueWorkerFunction",
        event_id="QueuedEvents",
        queue="EventsQueue",
        batch_size=10,
        report_batch_item_failures=True,
        enabled=True,
        max_concurrency=concurrency,
    )
    spec = QueueSpec(
        logical_id="EventsQueue",
        name="q.fifo",
        arn="arn:aws:sqs:eu-central-1:1:q.fifo",
        properties={"FifoQueue": True},
    )
    return SqsPoller(source, spec, "http://q", queue, invoker, "eu-central-1")  # type: ignore[arg-type]


def test_three_invocations_run_at_once_when_the_mapping_allows_three() -> None:
    queue, invoker = _Queue(batches=3), _Invoker(together=3)
    poller = _poller(3, queue, invoker)
    poller.start()
    try:
        assert invoker.met.wait(WAIT_S), "three invocations never ran at the same time"
    finally:
        poller.stop()
        poller.join(5)
    assert not invoker.broken.is_set()
    assert sorted(queue.deleted) == ["r0", "r1", "r2"]


def test_the_template_caps_the_worker_mapping_and_the_local_stack_reads_it() -> None:
    model = load_model(Path(TEMPLATE_PATH), prefix="t-", region="eu-central-1")
    (worker,) = [s for s in model.sqs_sources if s.function == "QueueWorkerFunction"]
    assert worker.max_concurrency == 5
