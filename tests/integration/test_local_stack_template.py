"""The project's own template.yaml on the local stack: the sample Bitrix24 events under events/
replayed over real HTTP reach the real receiver, and queued ones the real worker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.local import LocalStack, LocalStackConfig
from sandbox.local.samples import HttpSample, http_samples
from sandbox.template import TEMPLATE_PATH

pytestmark = pytest.mark.integration

EVENTS = TEMPLATE_PATH.parent / "events"
SAMPLES = {s.name: s for s in http_samples(EVENTS)}


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[LocalStack]:
    config = LocalStackConfig.ephemeral(
        moto_url=moto_endpoint, emulators=False, schedules=False, prefix=f"t{uuid.uuid4().hex[:8]}-"
    )
    with LocalStack(config) as running:
        yield running


def _send(stack: LocalStack, sample: HttpSample) -> httpx.Response:
    return httpx.request(
        sample.method,
        f"{stack.api_url}{sample.path}",
        params=sample.query or None,
        headers=sample.headers,
        content=sample.body,
        timeout=30,
    )


def test_sample_deal_event_is_accepted_queued_and_dispatched(stack: LocalStack) -> None:
    answer = _send(stack, SAMPLES["b24_events_receiver/deal_add"])

    assert answer.status_code == 200
    http_run = stack.journal.wait_for(lambda i: i.trigger == "http")
    assert http_run.function == "B24EventsReceiverFunction"
    assert http_run.event["isBase64Encoded"] is True  # form bodies arrive base64-encoded, as in AWS
    worker_run = stack.journal.wait_for(lambda i: i.trigger == "sqs", timeout=30)
    assert worker_run.function == "QueueWorkerFunction"
    assert worker_run.outcome == "ok"
    queued = json.loads(worker_run.event["Records"][0]["body"])
    assert (queued["event"], queued["id"]) == ("ONCRMDEALADD", 7405)
    assert worker_run.event["Records"][0]["attributes"]["MessageGroupId"]
    assert worker_run.notes["deleted"] or worker_run.notes["kept"]


def test_sample_with_forged_token_is_refused(stack: LocalStack) -> None:
    answer = _send(stack, SAMPLES["b24_events_receiver/forged_token"])

    assert answer.status_code == 401


def test_every_http_sample_gets_a_deliberate_answer_never_a_crash(stack: LocalStack) -> None:
    # This stack runs without the emulators: routes that must reach Bitrix24 or 1C answer 503
    # ("temporarily unavailable", a JSON reason); nothing may crash into a bare 500/502.
    answers = {name: _send(stack, sample) for name, sample in SAMPLES.items()}
    statuses = {name: answer.status_code for name, answer in answers.items()}

    assert all(status < 500 or status == 503 for status in statuses.values()), statuses
    for answer in answers.values():
        if answer.status_code == 503:
            assert answer.json()["error"]


def test_functions_get_local_values_for_the_templates_references(stack: LocalStack) -> None:
    receiver = stack.function_variables("B24EventsReceiverFunction")

    assert receiver["BRIDGE_TABLE_NAME"] == stack.model.tables["SyncTable"].name
    assert receiver["BRIDGE_QUEUE_URL"] == stack.queue_urls["EventsQueue"]
    assert "BRIDGE_SECRET_ID" not in receiver
    assert json.loads(receiver["BRIDGE_B24_RATE_LIMIT"]) == {"burst": 50, "per_second": 2}
    assert receiver["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_redrive_policy_points_at_the_local_dead_letter_queue(stack: LocalStack) -> None:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_urls["EventsQueue"],
        AttributeNames=["RedrivePolicy", "FifoQueue", "VisibilityTimeout"],
    )["Attributes"]

    assert (
        json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
        == stack.model.queues["EventsDeadLetterQueue"].arn
    )
    assert attributes["FifoQueue"] == "true"
    assert attributes["VisibilityTimeout"] == "360"


def test_samples_are_read_as_the_requests_that_produced_them() -> None:
    sample = SAMPLES["b24_events_receiver/deal_add"]

    assert (sample.method, sample.path) == ("POST", "/b24/events")
    assert sample.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sample.body.startswith(b"event=ONCRMDEALADD&")
    assert "host" not in sample.headers
    assert Path(EVENTS / "queue_worker").is_dir()  # SQS samples exist but are not HTTP requests
    assert not [name for name in SAMPLES if name.startswith("queue_worker/")]
