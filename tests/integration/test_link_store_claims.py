"""Claims in SyncTable against moto: one holder, settle, release, take-over after a dead holder."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge.store import (
    B24Ref,
    ClaimHeld,
    ClaimSettlement,
    LinkConflict,
    OneCRef,
    SyncStore,
    counterparty_claim_name,
)

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(sync_table: str, dynamodb: Any, clock: Clock) -> SyncStore:
    return SyncStore(sync_table, dynamodb, clock=clock)


def test_of_many_workers_claiming_at_once_exactly_one_wins(store: SyncStore) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def claim(n: int) -> None:
        won = store.links.claim("counterparty:inn:7701", f"worker-{n}").won
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_a_settled_claim_tells_everyone_the_result_until_it_expires(store: SyncStore, clock: Clock) -> None:
    assert store.links.claim("c", "a").won
    store.links.settle_claim("c", "a", "ref-1", keep_s=600)
    other = store.links.claim("c", "b")
    assert (other.won, other.owner, other.result) == (False, "a", "ref-1")
    clock.advance(601)
    assert store.links.claim("c", "b").won


def test_a_live_lease_holds_and_a_dead_one_is_taken_over(store: SyncStore, clock: Clock) -> None:
    assert store.links.claim("c", "a", lease_s=120).won
    clock.advance(119)
    held = store.links.claim("c", "b", lease_s=120)
    assert (held.won, held.settled) == (False, False)
    clock.advance(2)
    taken = store.links.claim("c", "b", lease_s=120)
    assert (taken.won, taken.taken_over) == (True, True)
    with pytest.raises(ClaimHeld):
        store.links.settle_claim("c", "a", "too-late")  # the dead holder cannot settle any more
    store.links.settle_claim("c", "b", "ref-2")
    assert store.links.claim("c", "a").result == "ref-2"


def test_a_released_claim_is_free_at_once_and_a_settled_one_is_not_released(store: SyncStore) -> None:
    assert store.links.claim("c", "a").won
    store.links.release_claim("c", "a")
    assert store.links.claim("c", "b").won
    store.links.settle_claim("c", "b", "ref")
    store.links.release_claim("c", "b")
    assert store.links.claim("c", "a").result == "ref"


def test_counterparty_claim_names_follow_inn_then_kind_and_name() -> None:
    assert counterparty_claim_name(inn=" 7701 ", kpp="", kind="ЮЛ", name="x") == "counterparty:inn:7701"
    assert counterparty_claim_name(inn="7701", kpp="770101001", kind="ЮЛ", name="x") == (
        "counterparty:inn:7701/770101001"
    )
    assert counterparty_claim_name(inn="", kpp="", kind="ФЛ", name="  Иванов   Иван ") == (
        "counterparty:name:ФЛ:иванов иван"
    )


def test_the_worker_backoff_changes_the_visibility_of_a_real_queue_message(moto_endpoint: str) -> None:
    """SqsVisibility against moto: a delayed message is invisible, a zero delay returns it."""
    import json
    import uuid

    import boto3
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from bridge.pipeline.worker import SqsVisibility
    from sandbox.template import create_queue_from_template, queue_arn

    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="eu-central-1")
    suffix = uuid.uuid4().hex[:8]
    dlq = create_queue_from_template(sqs, "EventsDeadLetterQueue", f"Dlq-{suffix}")
    url = create_queue_from_template(
        sqs, "EventsQueue", f"Ev-{suffix}", arns={"EventsDeadLetterQueue": queue_arn(sqs, dlq)}
    )
    sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps({"x": 1}), MessageGroupId="g", MessageDeduplicationId="d"
    )

    def receive() -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
        return [dict(m) for m in answer.get("Messages", [])]

    (message,) = receive()
    record = SQSRecord(
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {},
            "eventSourceARN": queue_arn(sqs, url),
        }
    )
    visibility = SqsVisibility(sqs, url)
    visibility.delay(record, 0)
    (again,) = receive()
    record = SQSRecord({**record.raw_event, "receiptHandle": again["ReceiptHandle"]})
    visibility.delay(record, 600)
    assert receive() == []


REF_0, REF_1 = "00000000-0000-4000-8000-000000000000", "11111111-1111-4111-8111-111111111111"
COMPANY, COUNTERPARTY = (
    B24Ref(entity="COMPANY", id="7"),
    OneCRef(entity_set="Catalog_Контрагенты", ref=REF_1),
)


def test_a_link_that_settles_its_claim_writes_both_in_one_request(store: SyncStore) -> None:
    assert store.links.claim("counterparty:inn:7701", "a").won
    settles = ClaimSettlement(name="counterparty:inn:7701", owner="a", result=REF_1)
    store.links.link(COMPANY, COUNTERPARTY, fingerprint="f", settles=settles)
    assert store.links.find_by_b24(COMPANY) is not None
    assert store.links.find_by_onec(COUNTERPARTY) is not None
    other = store.links.claim("counterparty:inn:7701", "b")
    assert (other.won, other.result) == (False, REF_1)


def test_a_claim_taken_over_meanwhile_stops_the_link_too(store: SyncStore, clock: Clock) -> None:
    assert store.links.claim("counterparty:inn:7702", "a", lease_s=60).won
    clock.advance(61)  # "a" stalled past its lease; "b" takes over
    assert store.links.claim("counterparty:inn:7702", "b").taken_over
    settles = ClaimSettlement(name="counterparty:inn:7702", owner="a", result=REF_1)
    with pytest.raises(ClaimHeld):
        store.links.link(COMPANY, COUNTERPARTY, fingerprint="f", settles=settles)
    assert store.links.find_by_b24(COMPANY) is None
    assert store.links.claim("counterparty:inn:7702", "c").owner == "b"  # still b's, unsettled


def test_a_link_conflict_writes_nothing_and_leaves_the_claim_to_settle_alone(store: SyncStore) -> None:
    store.links.link(COMPANY, OneCRef(entity_set="Catalog_Контрагенты", ref=REF_0), fingerprint="f")
    assert store.links.claim("counterparty:inn:7703", "a").won
    settles = ClaimSettlement(name="counterparty:inn:7703", owner="a", result=REF_1)
    with pytest.raises(LinkConflict):
        store.links.link(COMPANY, COUNTERPARTY, fingerprint="f", settles=settles)
    assert store.links.find_by_onec(COUNTERPARTY) is None
    assert store.links.claim("counterparty:inn:7703", "b").result is None
    store.links.settle_claim("counterparty:inn:7703", "a", REF_1)
    assert store.links.claim("counterparty:inn:7703", "b").result == REF_1
