"""The sandbox's corrections to moto's request handling keep SQS's and moto's answers and drop the
waste: a FIFO long poll waits instead of spinning on a message it may not deliver
(`sandbox.moto_sqs`), and moto's per-request lookups are computed once (`sandbox.moto_dispatch`)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import backends
from moto.core import responses
from moto.core.utils import method_names_from_class as moto_method_names
from moto.dynamodb.responses import DynamoHandler
from moto.sqs.models import Queue

from sandbox import moto_dispatch
from tests.conftest import REGION

pytestmark = pytest.mark.contract


@pytest.fixture
def fifo(moto_endpoint: str) -> Iterator[tuple[Any, str]]:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    url = sqs.create_queue(
        QueueName=f"t-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30"},
    )["QueueUrl"]
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)


def _send(sqs: Any, url: str, group: str, body: str) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)


def _receive(sqs: Any, url: str, wait_s: int) -> list[dict[str, Any]]:
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)
    return list(answer.get("Messages", []))


def test_a_long_poll_on_a_held_back_group_waits_instead_of_spinning(
    fifo: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs, url = fifo
    _send(sqs, url, "deal-1", "move")
    _send(sqs, url, "deal-1", "echo")
    assert [m["Body"] for m in _receive(sqs, url, 0)] == ["move", "echo"]
    _send(sqs, url, "deal-1", "later")  # visible, but its group is in flight
    looks = 0
    visible = Queue.messages

    def counted(queue: Queue) -> Any:
        nonlocal looks
        looks += 1
        return visible.fget(queue)  # type: ignore[attr-defined]

    monkeypatch.setattr(Queue, "messages", property(counted))
    assert _receive(sqs, url, 1) == []
    # moto alone re-reads the queue in a busy loop for the whole second (tens of thousands of
    # looks on this machine); the correction looks once per 50 ms tick. 200 leaves room either way.
    assert looks < 200, f"{looks} looks at the queue during a 1 s long poll"


def test_the_waiting_long_poll_still_delivers_a_new_group_and_the_held_back_one_follows(
    fifo: tuple[Any, str],
) -> None:
    sqs, url = fifo
    _send(sqs, url, "deal-1", "move")
    (move,) = _receive(sqs, url, 0)
    _send(sqs, url, "deal-1", "echo")  # held back while the move is in flight
    got: list[dict[str, Any]] = []
    polling = threading.Thread(target=lambda: got.extend(_receive(sqs, url, 10)))
    polling.start()
    _send(sqs, url, "deal-2", "other deal")
    polling.join(timeout=30)
    assert [m["Body"] for m in got] == ["other deal"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=move["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert [m["Body"] for m in _receive(sqs, url, 1)] == ["echo"]


def test_moto_lookups_give_moto_answers_and_read_the_package_folder_once(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert backends.list_of_moto_modules is moto_dispatch.list_of_moto_modules  # installed
    assert list(moto_dispatch.list_of_moto_modules()) == list(moto_dispatch._moto_modules())
    assert "dynamodb" in moto_dispatch.list_of_moto_modules()
    per_request = vars(responses)["method_names_from_class"]  # the name moto's requests call
    assert per_request is moto_dispatch.method_names_from_class
    assert per_request(DynamoHandler) == moto_method_names(DynamoHandler)
    listed = 0
    listdir = os.listdir

    def counted(path: Any) -> list[str]:
        nonlocal listed
        listed += 1
        return listdir(path)

    monkeypatch.setattr(os, "listdir", counted)
    for _ in range(3):
        list(moto_dispatch.list_of_moto_modules())
    assert listed == 0
    names = per_request(DynamoHandler)
    names.append("not_an_action")  # a caller's change does not reach the kept answer
    assert "not_an_action" not in per_request(DynamoHandler)
