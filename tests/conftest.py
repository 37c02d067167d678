"""Fixtures every test tier shares. Unit tests never open sockets; these fixtures are for the
integration, contract and acceptance tiers, and each binds ephemeral ports so runs never clash."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from hypothesis import HealthCheck, settings

from sandbox.moto_server import start_moto
from sandbox.template import create_table_from_template

# Powertools reads these when `bridge.observability` is imported (at collection, before any
# fixture runs); template.yaml sets them in AWS and the local stack sets them per function.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bridge-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "UnfBitrixBridgeTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

# CI runs on a busy 2-core machine: Hypothesis' per-example deadline (200 ms) and its "too slow"
# health check are wall-clock verdicts, which a loaded machine fails without any defect.
settings.register_profile(
    "bridge", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("bridge")

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "eu-central-1"


@pytest.fixture(autouse=True)
def _fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may ever reach real AWS with real credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "UnfBitrixBridgeTest")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "bridge-test")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto in server mode on a free port: DynamoDB and SQS over real HTTP."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server, url = start_moto()
    yield url
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)


@pytest.fixture
def dynamodb(moto_endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def sync_table(dynamodb) -> str:  # type: ignore[no-untyped-def]
    """A fresh SyncTable per test, created from template.yaml's own definition."""
    name = f"SyncTable-{uuid.uuid4().hex[:8]}"
    create_table_from_template(dynamodb, "SyncTable", name)
    return name
