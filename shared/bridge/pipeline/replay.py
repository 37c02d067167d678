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
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class ReplayReport:
    replayed: int
    left: int  # still in the DLQ afterwards (approximate, from SQS)
    # One line per message replayed (or, in a dry run, that would be): group, event, receive time.
    messages: tuple[str, ...] = ()
    skipped: int = 0  # looked at and left in the DLQ: another entity than the filter's
    dry_run: bool = False


# Long enough to look at the whole DLQ once; a message set aside is made visible again at the end.
_HOLD_S = 120


def _describe(message: Mapping[str, Any], group: str) -> str:
    try:
        body = json.loads(message["Body"])
    except ValueError:
        return f"{group} (unreadable body)"
    if not isinstance(body, dict):
        return f"{group} (unreadable body)"
    return f"{group} {body.get('event', '?')} received {body.get('received_at', '?')}"


def replay_dead_letters(
    sqs: SQSClient,
    *,
    dead_letter_url: str,
    queue_url: str,
    limit: int | None = None,
    entity: str | None = None,
    dry_run: bool = False,
) -> ReplayReport:
    """`entity` (a FIFO group such as `DEAL-42`): only that record's messages; the others stay in
    the DLQ. `dry_run`: list what would be replayed, move nothing."""
    replayed, skipped = 0, 0
    described: list[str] = []
    set_aside: dict[str, str] = {}  # message id → receipt handle, made visible again at the end
    try:
        while limit is None or replayed < limit:
            batch = min(10, limit - replayed) if limit is not None else 10
            answer = sqs.receive_message(
                QueueUrl=dead_letter_url,
                MaxNumberOfMessages=batch,
                MessageSystemAttributeNames=["MessageGroupId"],
                WaitTimeSeconds=0,
                VisibilityTimeout=_HOLD_S,
            )
            messages = [m for m in answer.get("Messages", []) if m["MessageId"] not in set_aside]
            if not messages:
                break
            for message in messages:
                group = message.get("Attributes", {}).get("MessageGroupId", "replay")
                chosen = entity is None or group == entity
                if not chosen or dry_run or (limit is not None and replayed >= limit):
                    set_aside[message["MessageId"]] = message["ReceiptHandle"]
                    if chosen and dry_run and (limit is None or replayed < limit):
                        described.append(_describe(message, group))
                        replayed += 1
                    elif not chosen:
                        skipped += 1
                    continue
                sqs.send_message(
                    QueueUrl=queue_url,
                    MessageBody=message["Body"],
                    MessageGroupId=group,
                    MessageDeduplicationId=_replay_id(message["MessageId"]),
                )
                sqs.delete_message(QueueUrl=dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
                described.append(_describe(message, group))
                replayed += 1
        for handle in set_aside.values():
            sqs.change_message_visibility(QueueUrl=dead_letter_url, ReceiptHandle=handle, VisibilityTimeout=0)
        attributes = sqs.get_queue_attributes(
            QueueUrl=dead_letter_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
    except (ClientError, BotoCoreError) as error:
        raise TransientError(f"replay stopped after {replayed} message(s): {error}") from error
    return ReplayReport(
        replayed=0 if dry_run else replayed,
        left=int(attributes.get("ApproximateNumberOfMessages", "0")),
        messages=tuple(described),
        skipped=skipped,
        dry_run=dry_run,
    )


def _replay_id(message_id: str) -> str:
    return hashlib.sha256(f"replay|{message_id}".encode()).hexdigest()
