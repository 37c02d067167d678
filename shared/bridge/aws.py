"""The one place AWS clients are built: once per process and endpoint, pointed at moto locally.

The endpoint is `RuntimeSettings.aws_endpoint_url` (`BRIDGE_AWS_ENDPOINT_URL`): unset in AWS, the
moto server in the local stack. Callers pass it in, so this module depends on nothing of the
bridge and `bridge.settings` can read secrets through it. Nothing is built at import; a warm Lambda
reuses the clients and their connection pools.

The SDK is imported on first use, not at module level (issue 15, cold start): a function that never
calls AWS, or not before its first event, does not pay for it. These are the bridge's documented
lazy imports (tests/unit/test_architecture.py LAZY_ALLOWED).

The clients are botocore's, from one botocore session, not boto3's: a boto3 client is the same
botocore client, but importing boto3 also loads s3transfer, boto3's resource factory and
dynamodb types, which the bridge never uses (~0.1–0.25 s of CPU on the first AWS call of every
function, measured in docs/performance.md P5). Secrets are read with GetSecretValue directly for
the same reason (Powertools' parameters utility imports boto3). Only the queue worker loads boto3,
through Powertools' idempotency (DynamoDBPersistenceLayer), which accepts these clients.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient


_session_lock = threading.Lock()  # a botocore session is not safe to build clients from concurrently


@cache
def _session() -> Any:
    # Deliberate lazy import for cold start (see the module docstring): the one place botocore loads.
    import botocore.session

    return botocore.session.get_session()  # region and credentials as boto3's default session


def _create(service: str, endpoint_url: str | None, config: Any) -> Any:
    with _session_lock:
        return _session().create_client(service, endpoint_url=endpoint_url, config=config)


def _client(service: str, endpoint_url: str | None) -> Any:
    from botocore.config import Config  # lazy with botocore (module docstring)

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return _create(service, endpoint_url, config)


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
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=960)
    return _create("lambda", endpoint_url, config)


def invoke_function(name: str, payload: dict[str, Any], endpoint_url: str | None) -> tuple[Any, str | None]:
    """Invoke a function and wait: (its answer as JSON, the function error type or None)."""
    answer = lambda_client(endpoint_url).invoke(
        FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
    )
    body = answer["Payload"].read()
    return (json.loads(body) if body else None), answer.get("FunctionError")


def read_secret(secret_id: str, endpoint_url: str | None) -> str | bytes | None:
    """A secret's value (SecretString, else SecretBinary), always fetched: the caller decides
    freshness. GetSecretValue directly, as Powertools' SecretsProvider would call it, without the
    boto3 import that utility brings (module docstring); SDK errors reach the caller unwrapped."""
    answer = secretsmanager_client(endpoint_url).get_secret_value(SecretId=secret_id)
    if "SecretString" in answer:
        return answer["SecretString"]
    return answer.get("SecretBinary")


def reset() -> None:
    _session.cache_clear()
    dynamodb_client.cache_clear()
    sqs_client.cache_clear()
    secretsmanager_client.cache_clear()
    ssm_client.cache_clear()
    lambda_client.cache_clear()
