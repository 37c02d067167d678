"""The one place boto3 clients are built: once per process and endpoint, pointed at moto locally.

The endpoint is `RuntimeSettings.aws_endpoint_url` (`BRIDGE_AWS_ENDPOINT_URL`): unset in AWS, the
moto server in the local stack. Callers pass it in, so this module depends on nothing of the
bridge and `bridge.settings` can read secrets through it. Nothing is built at import; a warm Lambda
reuses the clients and their connection pools.

boto3 is imported on first use, not at module level (issue 15, cold start): a function that never
calls AWS, or not before its first event, does not pay for it. These are the bridge's documented
lazy imports (tests/unit/test_architecture.py LAZY_ALLOWED).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


def _client(service: str, endpoint_url: str | None) -> Any:
    # Deliberate lazy import for cold start (see the module docstring): the one place boto3 loads.
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.client(service, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]


@cache
def dynamodb_client(endpoint_url: str | None) -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb", endpoint_url)
    return client


@cache
def sqs_client(endpoint_url: str | None) -> SQSClient:
    client: SQSClient = _client("sqs", endpoint_url)
    return client


@cache
def secretsmanager_client(endpoint_url: str | None) -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager", endpoint_url)
    return client


def read_secret(secret_id: str, endpoint_url: str | None) -> str | bytes | dict[Any, Any] | None:
    """A secret's value through Powertools, always fetched (the caller decides freshness)."""
    # Lazy for cold start, like boto3 above: Powertools' parameters utility imports boto3.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    value: str | bytes | dict[Any, Any] | None = SecretsProvider(
        boto3_client=secretsmanager_client(endpoint_url)
    ).get(secret_id, force_fetch=True)
    return value


def reset() -> None:
    dynamodb_client.cache_clear()
    sqs_client.cache_clear()
    secretsmanager_client.cache_clear()
