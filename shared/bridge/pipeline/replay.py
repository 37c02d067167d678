"""Put dead-lettered events back on the events queue (`python -m bridge.cli replay`).

A message lands in the DLQ after 5 failed receives: the other system was down for long, or a bug.
Once the cause is fixed, replaying is safe because flows re-read the current state (a replayed
ADD for a deal that already has its order finds it through the link and changes nothing). Each
message keeps its FIFO group (ADD before UPDATE per entity) and gets a fresh deduplication id, so
SQS does not drop it as a repeat of the original send. A message is deleted from the DLQ only after
it was queued again, so an interrupted replay loses nothing (at worst one event runs twice).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class ReplayReport:
    replayed: int
    left: int  # still in the DLQ when the limit stopped the replay (approximate, from SQS)


def replay_dead_letters(
    sqs: SQSClient, *, dead_letter_url: str, queue_url: str, limit: int | None = None
) -> ReplayReport:
    replayed = 0
    try:
        while limit is None or replayed < limit:
            batch = min(10, limit - replayed) if limit is not None else 10
            answer = sqs.receive_message(
                QueueUrl=dead_letter_url,
                MaxNumberOfMessages=batch,
                MessageSystemAttributeNames=["MessageGroupId"],
                WaitTimeSeconds=0,
                VisibilityTimeout=60,
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            for message in messages:
                group = message.get("Attributes", {}).get("MessageGroupId", "replay")
                sqs.send_message(
                    QueueUrl=queue_url,
                    MessageBody=message["Body"],
                    MessageGroupId=group,
                    MessageDeduplicationId=_replay_id(message["MessageId"]),
                )
                sqs.delete_message(QueueUrl=dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
                replayed += 1
        attributes = sqs.get_queue_attributes(
            QueueUrl=dead_letter_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
    except (ClientError, BotoCoreError) as error:
        raise TransientError(f"replay stopped after {replayed} message(s): {error}") from error
    return ReplayReport(replayed=replayed, left=int(attributes.get("ApproximateNumberOfMessages", "0")))


def _replay_id(message_id: str) -> str:
    return hashlib.sha256(f"replay|{message_id}".encode()).hexdigest()
