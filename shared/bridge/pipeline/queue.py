"""The queue port and its SQS FIFO adapter (the only module here that imports boto3)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

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
def sqs_client() -> SQSClient:
    """One client per process; `BRIDGE_AWS_ENDPOINT_URL` points it at moto in the local stack."""
    settings = runtime_settings()
    return boto3.client(
        "sqs",
        endpoint_url=settings.aws_endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5),
    )


@cache
def event_sender() -> EventSender:
    queue_url = runtime_settings().queue_url
    if not queue_url:
        raise ConfigurationError(f"bad setting: {ENV_PREFIX}QUEUE_URL: required by the webhook receiver")
    return SqsEventSender(sqs_client(), queue_url)
