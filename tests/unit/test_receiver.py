"""The receiver's answers and what it queues, with a fake queue (no sockets)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.b24 import php_query
from bridge.errors import ConfigurationError, TransientError
from bridge.pipeline.receiver import MAX_BODY_BYTES, HttpRequest, ReceiverDeps, receive

B24_FIXTURES = Path(__file__).parent.parent / "fixtures" / "b24"
TOKEN = "jvh9y1ulvt2m6k5or90v9mg8nn32ozas"  # the reference outgoing-webhook sample's token
FORM = "application/x-www-form-urlencoded"
RECEIVED_AT = datetime(2025, 12, 18, 8, 38, 44, tzinfo=UTC)


@dataclass
class Sent:
    body: dict[str, object]
    group_id: str
    deduplication_id: str


@dataclass
class FakeQueue:
    sent: list[Sent] = field(default_factory=list)
    failure: Exception | None = None

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        if self.failure is not None:
            raise self.failure
        self.sent.append(Sent(json.loads(body), group_id, deduplication_id))
        return f"message-{len(self.sent)}"


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def deps(queue: FakeQueue) -> ReceiverDeps:
    return ReceiverDeps(sender=queue, application_token=lambda: TOKEN, clock=lambda: RECEIVED_AT)


def _deal_add_form() -> str:
    return (B24_FIXTURES / "event.ONCRMDEALADD.outgoing-webhook.form.txt").read_text("utf-8").strip()


def _form(**changes: object) -> str:
    raw = php_query.decode(_deal_add_form())
    raw.update(changes)
    return php_query.encode(raw)


def test_reference_deal_event_is_queued_with_its_entity_and_group(
    queue: FakeQueue, deps: ReceiverDeps
) -> None:
    answer = receive(HttpRequest(_deal_add_form(), content_type=FORM), deps)

    assert answer.status == 200
    assert answer.body == {
        "queued": True,
        "event": "ONCRMDEALADD",
        "entity": "DEAL",
        "id": 7405,
        "message_id": "message-1",
    }
    [sent] = queue.sent
    assert sent.body == {
        "event": "ONCRMDEALADD",
        "entity": "DEAL",
        "id": 7405,
        "ts": 1766047124,
        "received_at": "2025-12-18T08:38:44Z",
    }
    assert sent.group_id == "DEAL-7405"
    assert sent.deduplication_id


def test_base64_body_is_decoded(queue: FakeQueue, deps: ReceiverDeps) -> None:
    encoded = base64.b64encode(_deal_add_form().encode()).decode()
    answer = receive(HttpRequest(encoded, is_base64_encoded=True, content_type=FORM), deps)
    assert answer.status == 200
    assert queue.sent[0].group_id == "DEAL-7405"


def test_json_body_is_accepted(queue: FakeQueue, deps: ReceiverDeps) -> None:
    body = (B24_FIXTURES / "event.ONCRMDEALADD.outgoing-webhook.json").read_text("utf-8")
    answer = receive(HttpRequest(body, content_type="application/json; charset=utf-8"), deps)
    assert answer.status == 200
    assert queue.sent[0].body["id"] == 7405


def test_json_body_without_content_type_is_recognised(queue: FakeQueue, deps: ReceiverDeps) -> None:
    body = (B24_FIXTURES / "event.ONCRMDEALADD.outgoing-webhook.json").read_text("utf-8")
    assert receive(HttpRequest(body), deps).status == 200


def test_two_changes_within_one_second_are_both_queued(queue: FakeQueue) -> None:
    # Bitrix24 never retries and its ts has one-second resolution: the same event, id and ts
    # posted twice are two changes (e.g. our write-back, then a manager's edit), not a duplicate.
    ticks = iter([RECEIVED_AT, RECEIVED_AT + timedelta(milliseconds=300)])
    deps = ReceiverDeps(sender=queue, application_token=lambda: TOKEN, clock=lambda: next(ticks))
    receive(HttpRequest(_deal_add_form(), content_type=FORM), deps)
    receive(HttpRequest(_deal_add_form(), content_type=FORM), deps)

    first, second = queue.sent
    assert first.body["ts"] == second.body["ts"]
    assert first.deduplication_id != second.deduplication_id


@pytest.mark.parametrize(
    ("name", "entity", "entity_id"),
    [
        ("event.ONCRMCOMPANYADD.app.json", "COMPANY", 2917),
        ("event.ONCRMCONTACTUPDATE.app.json", "CONTACT", 82),
        ("event.ONCRMREQUISITEUPDATE.app.json", "REQUISITE", 27),
        ("event.CATALOG.PRODUCT.ON.UPDATE.app.json", "PRODUCT", 1),
        ("event.ONCRMDEALMOVETOCATEGORY.app.json", "DEAL", 6675),
    ],
)
def test_every_supported_reference_event_is_queued(name: str, entity: str, entity_id: int) -> None:
    raw = json.loads((B24_FIXTURES / name).read_text("utf-8"))
    queue = FakeQueue()
    deps = ReceiverDeps(sender=queue, application_token=lambda: raw["auth"]["application_token"])

    answer = receive(HttpRequest(php_query.encode(raw), content_type=FORM), deps)

    assert answer.status == 200, answer.body
    assert queue.sent[0].group_id == f"{entity}-{entity_id}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_form(auth={"application_token": "51856fefc120afa4b628cc82d3935cce"}), "does not match"),
        (_form(auth={"domain": "some-domain.bitrix24.com"}), "missing auth[application_token]"),
        (_form(auth={"application_token": ""}), "missing auth[application_token]"),
        (_form(auth="jvh9y1ulvt2m6k5or90v9mg8nn32ozas"), "missing auth[application_token]"),
    ],
)
def test_missing_or_forged_token_is_refused_and_nothing_queued(
    queue: FakeQueue, deps: ReceiverDeps, body: str, reason: str
) -> None:
    answer = receive(HttpRequest(body, content_type=FORM), deps)
    assert answer.status == 401
    assert reason in str(answer.body["error"])
    assert queue.sent == []


def test_token_is_checked_before_the_payload(queue: FakeQueue, deps: ReceiverDeps) -> None:
    """A caller without the token learns nothing about which fields a valid event needs."""
    answer = receive(HttpRequest("event=ONCRMDEALADD&auth[application_token]=guess", content_type=FORM), deps)
    assert answer.status == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_form(data={}), "missing field data[FIELDS]"),
        (_form(data="7405"), "data: must have nested fields (data[...])"),
        (_form(data={"FIELDS": {}}), "missing field data[FIELDS][ID]"),
        (_form(data={"FIELDS": {"ID": "7405abc"}}), "data[FIELDS][ID]: must be a positive integer"),
        (_form(ts="yesterday"), "ts: must be a positive integer"),
        (_form(event=""), "event"),
        (_form(event="ONCRMLEADADD"), "unsupported event ONCRMLEADADD"),
        (_form(event="ONCRMDEALUSERFIELDADD"), "unsupported event ONCRMDEALUSERFIELDADD"),
    ],
)
def test_malformed_event_gets_400_with_the_reason(
    queue: FakeQueue, deps: ReceiverDeps, body: str, reason: str
) -> None:
    answer = receive(HttpRequest(body, content_type=FORM), deps)
    assert answer.status == 400
    assert reason in str(answer.body["error"])
    assert answer.body["queued"] is False
    assert queue.sent == []


def test_missing_event_name_is_reported(queue: FakeQueue, deps: ReceiverDeps) -> None:
    raw = php_query.decode(_deal_add_form())
    del raw["event"]
    answer = receive(HttpRequest(php_query.encode(raw), content_type=FORM), deps)
    assert (answer.status, answer.body["error"]) == (400, "missing field event")


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (HttpRequest("", content_type=FORM), "empty body"),
        (HttpRequest(None), "empty body"),
        (HttpRequest("{not json", content_type="application/json"), "not valid JSON"),
        (HttpRequest("[1, 2]", content_type="application/json"), "must be an object"),
        (HttpRequest("!!!", is_base64_encoded=True), "not valid base64"),
        (HttpRequest(base64.b64encode(b"\xff\xfe").decode(), is_base64_encoded=True), "not UTF-8"),
    ],
)
def test_unreadable_body_gets_400(
    queue: FakeQueue, deps: ReceiverDeps, request_: HttpRequest, reason: str
) -> None:
    answer = receive(request_, deps)
    assert answer.status == 400
    assert reason in str(answer.body["error"])


def test_body_over_64_kib_is_refused_before_parsing(queue: FakeQueue, deps: ReceiverDeps) -> None:
    padding = "x" * MAX_BODY_BYTES
    body = _deal_add_form() + "&padding=" + padding
    assert receive(HttpRequest(body, content_type=FORM), deps).status == 413
    encoded = base64.b64encode(body.encode()).decode()
    assert receive(HttpRequest(encoded, is_base64_encoded=True, content_type=FORM), deps).status == 413
    assert queue.sent == []


def test_body_of_exactly_64_kib_is_accepted(queue: FakeQueue, deps: ReceiverDeps) -> None:
    body = _deal_add_form() + "&padding="
    body += "x" * (MAX_BODY_BYTES - len(body))
    assert receive(HttpRequest(body, content_type=FORM), deps).status == 200


def test_queue_outage_is_a_503_without_details(deps: ReceiverDeps, queue: FakeQueue) -> None:
    queue.failure = TransientError("could not queue the event: EndpointConnectionError http://10.0.0.1")
    answer = receive(HttpRequest(_deal_add_form(), content_type=FORM), deps)
    assert answer.status == 503
    assert "10.0.0.1" not in json.dumps(answer.body)


def test_missing_secret_is_a_500(queue: FakeQueue) -> None:
    def no_token() -> str:
        raise ConfigurationError("bad setting: BRIDGE_B24_APPLICATION_TOKEN: Field required")

    answer = receive(HttpRequest(_deal_add_form(), content_type=FORM), ReceiverDeps(queue, no_token))
    assert answer.status == 500
    assert queue.sent == []


def test_token_never_reaches_the_logs(
    queue: FakeQueue, deps: ReceiverDeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    receive(HttpRequest(_deal_add_form(), content_type=FORM), deps)
    receive(HttpRequest(_form(auth={"application_token": "forged-token-value"}), content_type=FORM), deps)
    receive(HttpRequest(_form(data={}), content_type=FORM), deps)
    # Every attribute of every record, the structured keys included, is what a log line can show.
    everything = "\n".join(repr(vars(record)) for record in caplog.records)
    assert [r.__dict__.get("step") for r in caplog.records] == ["received", "queued", "rejected", "rejected"]
    assert TOKEN not in everything
    assert "forged-token-value" not in everything
