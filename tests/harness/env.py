"""The environment a function gets on the local stack: BRIDGE_* settings (secrets from env, both
emulators at their default ports, AWS on moto) and the events queue with its dead-letter queue."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sandbox.template import create_queue_from_template, queue_arn

LOCAL_SECRETS = {
    "BRIDGE_B24_WEBHOOK_URL": "http://127.0.0.1:8024/rest/1/sandbox/",
    "BRIDGE_B24_APPLICATION_TOKEN": "sandbox-application-token",
    "BRIDGE_ONEC_BASE_URL": "http://127.0.0.1:8081/unf/odata/standard.odata/",
    "BRIDGE_ONEC_USER": "odata",
    "BRIDGE_ONEC_PASSWORD": "odata",
}


def local_env(monkeypatch: pytest.MonkeyPatch, *, table: str, queue_url: str, aws_endpoint: str) -> None:
    """Settings from the environment, as `make sandbox` sets them (no Secrets Manager)."""
    values = {
        "BRIDGE_TABLE_NAME": table,
        "BRIDGE_QUEUE_URL": queue_url,
        "BRIDGE_AWS_ENDPOINT_URL": aws_endpoint,
    }
    for name, value in (values | LOCAL_SECRETS).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRIDGE_SECRET_ID", raising=False)


def events_queues(sqs: Any) -> tuple[str, str]:
    """(EventsQueue URL, its dead-letter queue URL), both as template.yaml declares them."""
    suffix = uuid.uuid4().hex[:8]
    dlq_url = create_queue_from_template(sqs, "EventsDeadLetterQueue", f"EventsDlq-{suffix}")
    url = create_queue_from_template(
        sqs, "EventsQueue", f"Events-{suffix}", arns={"EventsDeadLetterQueue": queue_arn(sqs, dlq_url)}
    )
    return url, dlq_url
