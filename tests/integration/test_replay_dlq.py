"""`python -m bridge.cli replay`: dead-lettered events go back to the events queue, in their groups."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from bridge import aws, settings
from bridge.cli import main
from bridge.pipeline.replay import replay_dead_letters
from sandbox.template import create_queue_from_template, queue_arn

pytestmark = pytest.mark.integration
REGION = "eu-central-1"


@pytest.fixture
def queues(moto_endpoint: str) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    suffix = uuid.uuid4().hex[:8]
    dlq = create_queue_from_template(sqs, "EventsDeadLetterQueue", f"EventsDlq-{suffix}")
    queue = create_queue_from_template(
        sqs, "EventsQueue", f"Events-{suffix}", arns={"EventsDeadLetterQueue": queue_arn(sqs, dlq)}
    )
    return sqs, queue, dlq


def _park(sqs: Any, dlq: str, entity_id: int, event: str) -> None:
    body = {"event": event, "entity": "DEAL", "id": entity_id, "ts": 1, "received_at": "2026-11-28T00:00:00Z"}
    sqs.send_message(
        QueueUrl=dlq,
        MessageBody=json.dumps(body),
        MessageGroupId=f"DEAL-{entity_id}",
        MessageDeduplicationId=f"{event}-{entity_id}",
    )


def _all(sqs: Any, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
        )
        batch = answer.get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_replay_moves_every_message_back_in_its_group_and_empties_the_dlq(
    queues: tuple[Any, str, str],
) -> None:
    sqs, queue, dlq = queues
    for entity_id, event in ((7, "ONCRMDEALADD"), (7, "ONCRMDEALUPDATE"), (8, "ONCRMDEALADD")):
        _park(sqs, dlq, entity_id, event)

    report = replay_dead_letters(sqs, dead_letter_url=dlq, queue_url=queue)

    assert (report.replayed, report.left) == (3, 0)
    back = _all(sqs, queue)
    assert sorted((json.loads(m["Body"])["id"], json.loads(m["Body"])["event"]) for m in back) == [
        (7, "ONCRMDEALADD"),
        (7, "ONCRMDEALUPDATE"),
        (8, "ONCRMDEALADD"),
    ]
    groups = {json.loads(m["Body"])["id"]: m["Attributes"]["MessageGroupId"] for m in back}
    assert groups == {7: "DEAL-7", 8: "DEAL-8"}
    assert _all(sqs, dlq) == []


def test_the_command_replays_up_to_the_limit(
    queues: tuple[Any, str, str], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    sqs, queue, dlq = queues
    for entity_id in (1, 2, 3):
        _park(sqs, dlq, entity_id, "ONCRMDEALUPDATE")
    status, out = _cli(queue, moto_endpoint, monkeypatch, capsys, "--dlq", dlq, "--limit", "2")

    assert status == 0
    assert "replayed 2 event(s); 1 left" in out
    assert len(_all(sqs, queue)) == 2


def _cli(
    queue: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str
) -> tuple[int, str]:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "unused")
    monkeypatch.setenv("BRIDGE_QUEUE_URL", queue)
    monkeypatch.setenv("BRIDGE_AWS_ENDPOINT_URL", moto_endpoint)
    settings.reset_caches()
    aws.reset()
    try:
        status = main(["replay", *args])
    finally:
        settings.reset_caches()
        aws.reset()
    return status, capsys.readouterr().out


def _parked(sqs: Any, url: str) -> list[tuple[int, str]]:
    return sorted((json.loads(m["Body"])["id"], json.loads(m["Body"])["event"]) for m in _all(sqs, url))


def test_entity_filter_replays_only_that_records_events_in_order(
    queues: tuple[Any, str, str], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    sqs, queue, dlq = queues
    for entity_id, event in (
        (41, "ONCRMDEALADD"),
        (42, "ONCRMDEALADD"),
        (42, "ONCRMDEALUPDATE"),
        (43, "ONCRMDEALADD"),
    ):
        _park(sqs, dlq, entity_id, event)

    status, out = _cli(queue, moto_endpoint, monkeypatch, capsys, "--dlq", dlq, "--entity", "deal-42")

    assert status == 0
    assert "replayed: DEAL-42 ONCRMDEALADD received 2026-11-28T00:00:00Z" in out
    assert "replayed 2 event(s); 2 of other records left alone; 2 left in the dead-letter queue" in out
    back = _all(sqs, queue)
    assert [(json.loads(m["Body"])["id"], json.loads(m["Body"])["event"]) for m in back] == [
        (42, "ONCRMDEALADD"),
        (42, "ONCRMDEALUPDATE"),
    ]
    assert _parked(sqs, dlq) == [(41, "ONCRMDEALADD"), (43, "ONCRMDEALADD")]  # visible again at once


def test_dry_run_lists_and_moves_nothing(
    queues: tuple[Any, str, str], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    sqs, queue, dlq = queues
    for entity_id, event in ((7, "ONCRMDEALADD"), (8, "ONCRMDEALUPDATE")):
        _park(sqs, dlq, entity_id, event)

    status, out = _cli(queue, moto_endpoint, monkeypatch, capsys, "--dlq", dlq, "--dry-run", "--json")

    assert status == 0
    result = json.loads(out)
    assert result["dry_run"] is True
    assert result["replayed"] == 0
    assert sorted(result["messages"]) == [
        "DEAL-7 ONCRMDEALADD received 2026-11-28T00:00:00Z",
        "DEAL-8 ONCRMDEALUPDATE received 2026-11-28T00:00:00Z",
    ]
    assert _all(sqs, queue) == []
    assert _parked(sqs, dlq) == [(7, "ONCRMDEALADD"), (8, "ONCRMDEALUPDATE")]


def test_a_malformed_entity_is_refused_with_the_form(capsys: Any) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["replay", "--dlq", "http://x", "--entity", "42"])
    assert stopped.value.code == 2
    assert "an entity is KIND-ID, e.g. DEAL-42" in capsys.readouterr().err
