"""The one place boto3 clients are built: once per process, pointed at moto in the local stack.

`BRIDGE_AWS_ENDPOINT_URL` is unset in AWS and names the moto server locally. Nothing is built at
import; a warm Lambda reuses the clients and their connection pools.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from bridge.settings import runtime_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


def _client(service: str) -> Any:
    # Deliberate lazy import for cold start (see the module docstring): the one place boto3 loads.
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.client(service, endpoint_url=runtime_settings().aws_endpoint_url, config=config)  # type: ignore[call-overload]


@cache
def dynamodb_client() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


@cache
def sqs_client() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def reset() -> None:
    dynamodb_client.cache_clear()
    sqs_client.cache_clear()
    secretsmanager_client.cache_clear()


@cache
def secretsmanager_client() -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager")
    return client
