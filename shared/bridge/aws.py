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

import json
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient


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


@cache
def ssm_client(endpoint_url: str | None) -> SSMClient:
    client: SSMClient = _client("ssm", endpoint_url)
    return client


def read_parameter(name: str, endpoint_url: str | None) -> str | None:
    """A Parameter Store parameter's value, always fetched; None when it does not exist."""
    client = ssm_client(endpoint_url)
    try:
        return client.get_parameter(Name=name)["Parameter"].get("Value")
    except client.exceptions.ParameterNotFound:
        return None


def write_parameter(name: str, value: str, endpoint_url: str | None) -> int:
    """Create or overwrite a String parameter (Advanced tier: up to 8 KB); its new version."""
    answer = ssm_client(endpoint_url).put_parameter(
        Name=name, Value=value, Type="String", Tier="Advanced", Overwrite=True
    )
    return int(answer.get("Version", 0))


@cache
def lambda_client(endpoint_url: str | None) -> Any:  # no stubs for Lambda in the lock
    # Deliberate lazy import (module docstring). One attempt, and a read timeout beyond the
    # invoked function's own (setup runs up to 15 min): a retry would only run it twice.
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=960)
    return boto3.client("lambda", endpoint_url=endpoint_url, config=config)


def invoke_function(name: str, payload: dict[str, Any], endpoint_url: str | None) -> tuple[Any, str | None]:
    """Invoke a function and wait: (its answer as JSON, the function error type or None)."""
    answer = lambda_client(endpoint_url).invoke(
        FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
    )
    body = answer["Payload"].read()
    return (json.loads(body) if body else None), answer.get("FunctionError")


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
    ssm_client.cache_clear()
    lambda_client.cache_clear()
