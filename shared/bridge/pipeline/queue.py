"""The queue port and its SQS FIFO adapter (the client comes from `bridge.aws`)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bridge import aws
from bridge.errors import ConfigurationError, TransientError
from bridge.settings import ENV_PREFIX, runtime_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class EventSender(Protocol):
    """Puts one message on the events queue and returns its message id."""

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str: ...


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


@cache
def event_sender() -> EventSender:
    queue_url = runtime_settings().queue_url
    if not queue_url:
        raise ConfigurationError(f"bad setting: {ENV_PREFIX}QUEUE_URL: required by the webhook receiver")
    return SqsEventSender(aws.sqs_client(runtime_settings().aws_endpoint_url), queue_url)
