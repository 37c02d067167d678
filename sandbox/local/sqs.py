"""Lambda's SQS event source mapping: poll, invoke with a real SQS event, delete what succeeded.

Deleting is the only way a message leaves the queue; everything else (visibility timeout, receive
count, redrive to the dead-letter queue) is SQS's job, which moto server does.
"""

from __future__ import annotations

import base64
import logging
import threading
from typing import Any

from sandbox.local.invoker import Invoker
from sandbox.local.journal import Invocation
from sandbox.local.loop import BackgroundLoop
from sandbox.local.model import QueueSpec, SqsSourceSpec

log = logging.getLogger("sandbox.sqs")

# ReceiveMessage returns as soon as a message is there; the wait only bounds an idle poll, so
# stop() stays prompt and a burst of events is picked up without a fixed sleep.
LONG_POLL_S = 1


def _attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    converted: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = b64(value["BinaryValue"])
    return converted


def sqs_record(message: dict[str, Any], queue: QueueSpec, region: str) -> dict[str, Any]:
    """One `Records[]` item exactly as Lambda builds it from a ReceiveMessage result."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            k: _attribute_value(v) for k, v in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
    }
    attributes = record["attributes"]
    if queue.fifo and "SequenceNumber" not in attributes and "SentTimestamp" in attributes:
        # moto numbers only messages sent with an explicit deduplication id; real FIFO queues
        # number every message. Stable per message, increasing with the send time, 20 digits.
        tail = int(message["MessageId"].replace("-", ""), 16) % 10**7
        attributes["SequenceNumber"] = f"{int(attributes['SentTimestamp']):013d}{tail:07d}"
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue.arn, "awsRegion": region})
    return record


def records_to_delete(invocation: Invocation, report_batch_item_failures: bool) -> list[str]:
    """Message ids to delete after an invocation, following Lambda's rules.

    Handler error → nothing. Success without ReportBatchItemFailures → everything. With it, every
    record not named in `batchItemFailures`; a malformed response (an identifier that is empty or
    not in the batch) fails the whole batch, as Lambda does.
    """
    ids = [r["messageId"] for r in invocation.event["Records"]]
    if invocation.outcome != "ok":
        return []
    if not report_batch_item_failures:
        return ids
    result = invocation.result
    if result is None:
        return ids
    if not isinstance(result, dict):
        return []
    failures = result.get("batchItemFailures") or []
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return []
        failed.add(identifier)
    return [i for i in ids if i not in failed]


class SqsPoller(BackgroundLoop):
    """Lambda's pollers for one event source mapping: `source.max_concurrency` loops, each receiving
    a batch and invoking the function with it, so up to that many invocations run at once (the
    function's warm containers scale out). On a FIFO queue SQS itself keeps a message group's
    messages out of a receive while earlier ones of the group are in flight, so a deal's events
    still run one after another."""

    def __init__(
        self, source: SqsSourceSpec, queue: QueueSpec, queue_url: str, sqs: Any, invoker: Invoker, region: str
    ) -> None:
        self.source = source
        self.queue = queue
        self.queue_url = queue_url
        self._sqs = sqs
        self._invoker = invoker
        self._region = region
        name = f"sqs-{source.function}-{source.event_id}"
        super().__init__(name)
        self._more = [
            threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True)
            for n in range(2, max(source.max_concurrency, 1) + 1)
        ]
        self._count = threading.Lock()
        # One ReceiveMessage at a time across the loops: moto decides which FIFO groups are in
        # flight once, when a receive starts, so two overlapping (long-polling) receives could
        # hand out two messages of one group to two invocations at once. Real SQS never does;
        # serialising the receives keeps the local stack as strict (the invocations still overlap).
        self._receiving = threading.Lock()
        self.batches = 0

    def start(self) -> None:
        super().start()
        for thread in self._more:
            thread.start()

    def join(self, timeout: float) -> None:
        super().join(timeout)
        for thread in self._more:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("%s: polling failed; retrying", self.queue.logical_id)
                self._stop.wait(1)

    def poll_once(self) -> None:
        with self._receiving:
            response = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(self.source.batch_size, 10),
                WaitTimeSeconds=LONG_POLL_S,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        messages = response.get("Messages", [])
        if not messages or self._stop.is_set():
            return
        with self._count:
            self.batches += 1
        event = {"Records": [sqs_record(m, self.queue, self._region) for m in messages]}
        described = ", ".join(
            f"{m['MessageId'][:8]} (receive #{m.get('Attributes', {}).get('ApproximateReceiveCount', '?')})"
            for m in messages
        )
        log.info(
            "%s → %s: dispatching %d message(s): %s",
            self.queue.logical_id,
            self.source.function,
            len(messages),
            described,
        )
        self._invoker.invoke(
            self.source.function, event, trigger="sqs", source=self.queue.logical_id, after=self._settle
        )

    def _settle(self, invocation: Invocation) -> None:
        """Delete what succeeded; the rest reappears after the visibility timeout (and is redriven)."""
        delete = records_to_delete(invocation, self.source.report_batch_item_failures)
        handles = {r["messageId"]: r["receiptHandle"] for r in invocation.event["Records"]}
        if delete:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": handles[i]} for n, i in enumerate(delete)],
            )
        kept = [i for i in handles if i not in delete]
        invocation.notes.update({"deleted": delete, "kept": kept})
        if invocation.outcome == "ok" and not kept:
            log.info("%s → %s: ok, %d deleted", self.queue.logical_id, self.source.function, len(delete))
        else:
            reason = invocation.error["errorType"] if invocation.error else "batchItemFailures"
            log.warning(
                "%s → %s: %s; %d deleted, %d left for redelivery after the visibility timeout: %s",
                self.queue.logical_id,
                self.source.function,
                reason,
                len(delete),
                len(kept),
                ", ".join(k[:8] for k in kept),
            )
