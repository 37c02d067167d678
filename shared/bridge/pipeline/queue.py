"""The SQS FIFO adapter of the events queue (the port is `bridge.domain.events.EventSender`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsEventSender:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        try:
            answer = self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=body,
                MessageGroupId=group_id,
                MessageDeduplicationId=deduplication_id,
            )
        except (ClientError, BotoCoreError) as error:
            # Whatever SQS said, the event is not queued; the caller decides what that means.
            raise TransientError(f"could not queue the event: {error}") from error
        return answer["MessageId"]
