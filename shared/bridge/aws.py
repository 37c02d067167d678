"""The one place boto3 clients are built: once per process, pointed at moto in the local stack.

`BRIDGE_AWS_ENDPOINT_URL` is unset in AWS and names the moto server locally. Nothing is built at
import; a warm Lambda reuses the clients and their connection pools.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from bridge.settings import runtime_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=runtime_settings().aws_endpoint_url, config=_CONFIG)


@cache
def sqs_client() -> SQSClient:
    return boto3.client("sqs", endpoint_url=runtime_settings().aws_endpoint_url, config=_CONFIG)


def reset() -> None:
    dynamodb_client.cache_clear()
    sqs_client.cache_clear()
    secretsmanager_client.cache_clear()


@cache
def secretsmanager_client() -> SecretsManagerClient:
    return boto3.client("secretsmanager", endpoint_url=runtime_settings().aws_endpoint_url, config=_CONFIG)
