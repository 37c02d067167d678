"""POST /b24/events under hostile input: every malformed body is a 4xx with a reason and a log
line, never a 5xx, and nothing is queued without the application token (handler in-process)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.deps import receiver_deps
from bridge.handlers import overridden
from bridge.pipeline.receiver import MAX_FORM_FIELDS, MAX_NESTING, ReceiverDeps
from sandbox.template import load_function_handler
from tests.harness.lambda_edge import LambdaContext, generated, http_event, spliced

TOKEN = "jvh9y1ulvt2m6k5or90v9mg8nn32ozas"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
VALID_FORM = (
    "event=ONCRMDEALADD&event_handler_id=975&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124"
    "&auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Bapplication_token%5D=" + TOKEN
)
VALID_JSON: dict[str, Any] = {
    "event": "ONCRMDEALUPDATE",
    "data": {"FIELDS": {"ID": 759}},
    "ts": 1766047124,
    "auth": {"application_token": TOKEN, "domain": "some-domain.bitrix24.com"},
}

type Handler = Callable[..., dict[str, Any]]


@dataclass
class FakeQueue:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        self.sent.append(json.loads(body))
        return f"message-{len(self.sent)}"


@pytest.fixture(scope="module")
def handler() -> Handler:
    loaded: Handler = load_function_handler("B24EventsReceiverFunction")
    return loaded


def post(
    handler: Handler, body: str | bytes, content_type: str | None = FORM
) -> tuple[int, dict[str, Any], FakeQueue]:
    queue = FakeQueue()
    headers = {"content-type": content_type} if content_type else {}
    deps = ReceiverDeps(sender=queue, application_token=lambda: TOKEN)
    with overridden({receiver_deps: deps}):
        response = handler(http_event("/b24/events", body, headers), LambdaContext())
    return response["statusCode"], json.loads(response["body"]), queue


# --- the inputs that crashed into 500s ------------------------------------------------------------

DEEP_KEY = "a" + "[b]" * 1000
HOSTILE_FORM_FIELDS = {
    "all-digit root key": "0=x",
    "full-width digit index": "a[%EF%BC%90]=1",
    "superscript digit index": "a[%C2%B2]=1",
    "4,301-digit index": "a[" + "7" * 4301 + "]=1",
    "4,301-digit appended index": "a[" + "7" * 4301 + "]=1&a[]=2",
}


@pytest.mark.parametrize("extra", HOSTILE_FORM_FIELDS.values(), ids=HOSTILE_FORM_FIELDS.keys())
def test_odd_keys_beside_a_real_event_are_ignored_and_the_event_queued(handler: Handler, extra: str) -> None:
    status, body, queue = post(handler, f"{extra}&{VALID_FORM}")

    assert (status, body["queued"]) == (200, True)
    assert [(m["event"], m["id"]) for m in queue.sent] == [("ONCRMDEALADD", 7405)]


@pytest.mark.parametrize("extra", HOSTILE_FORM_FIELDS.values(), ids=HOSTILE_FORM_FIELDS.keys())
def test_odd_keys_without_the_token_are_refused_401(handler: Handler, extra: str) -> None:
    status, body, queue = post(handler, f"{extra}&{VALID_FORM.replace(TOKEN, 'forged')}")

    assert (status, body["error"]) == (401, "auth[application_token] does not match")
    assert queue.sent == []


def test_brackets_1000_deep_are_400_with_the_limit(
    handler: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    status, body, queue = post(handler, f"{DEEP_KEY}=1&{VALID_FORM}")

    assert status == 400
    assert f"nested deeper than {MAX_NESTING} levels" in body["error"]
    assert queue.sent == []
    assert [r.__dict__.get("status") for r in caplog.records if r.getMessage() == "event rejected"] == [400]


def test_brackets_1000_deep_without_the_token_are_401_before_any_decoding(handler: Handler) -> None:
    status, _, queue = post(handler, f"{DEEP_KEY}=1&event=ONCRMDEALADD")

    assert status == 401
    assert queue.sent == []


def test_a_body_of_many_appends_is_refused_on_its_field_count(handler: Handler) -> None:
    # 60 KB of `a[]=&…`: the body that took seconds of CPU before the 401.
    hostile = "&".join(["a[]="] * 12_000)
    status, body, queue = post(handler, hostile + "&" + VALID_FORM)

    assert (status, body["error"]) == (400, f"more than {MAX_FORM_FIELDS} fields")
    assert queue.sent == []


def test_many_appends_within_the_field_limit_still_decode(handler: Handler) -> None:
    appends = "&".join(f"data[FIELDS][LIST][]={i}" for i in range(150))
    status, _, queue = post(handler, f"{appends}&{VALID_FORM}")

    assert status == 200
    assert len(queue.sent) == 1


@pytest.mark.parametrize("token", [TOKEN, "forged"])
@pytest.mark.parametrize(
    "deep", ["[" * 50_000, "[" * 30_000 + "]" * 30_000, '{"a":' * 10_000 + "1" + "}" * 10_000]
)
def test_json_50000_deep_is_400(
    handler: Handler, token: str, deep: str, caplog: pytest.LogCaptureFixture
) -> None:
    document = json.dumps({**VALID_JSON, "auth": {"application_token": token}})
    status, body, queue = post(handler, document[:-1] + ', "x": ' + deep + "}", JSON)

    assert (status, body["error"]) == (400, f"JSON nested deeper than {MAX_NESTING} levels")
    assert queue.sent == []
    assert any(r.getMessage() == "event rejected" for r in caplog.records)


def test_lone_surrogate_in_the_json_token_is_400(handler: Handler) -> None:
    body = json.dumps(VALID_JSON).replace(TOKEN, "\\ud800" + TOKEN)
    status, answer, queue = post(handler, body, JSON)

    assert status == 400
    assert "lone surrogate" in answer["error"]
    assert queue.sent == []


def test_lone_surrogate_as_raw_text_in_the_event_is_400(handler: Handler) -> None:
    status, answer, queue = post(handler, VALID_FORM + "&x=\ud800", FORM)

    assert (status, answer["error"]) == (400, "body is not UTF-8")
    assert queue.sent == []


def test_bad_base64_is_400(handler: Handler) -> None:
    event = http_event("/b24/events", "not base64!", {"content-type": FORM})
    event["isBase64Encoded"] = True
    deps = ReceiverDeps(sender=FakeQueue(), application_token=lambda: TOKEN)
    with overridden({receiver_deps: deps}):
        response = handler(event, LambdaContext())

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "body is not valid base64"


# --- generated bodies: 5,000 form + 2,500 JSON trees + 1,500 spliced JSON + 1,000 raw = 10,000 ---

# Pieces of a form body: the real event's fields, the token (right, forged, empty), separators,
# and every key shape that once crashed the decoder or sits on PHP's edges.
FORM_PIECES = [
    "&",
    "=",
    "a",
    "0",
    "00",
    "[]",
    "[0]",
    "[1]",
    "[01]",
    "[-1]",
    "[",
    "]",
    "[%EF%BC%90]",
    "[%C2%B2]",
    "[０]",
    "%",
    "%5B",
    "%5D",
    "+",
    "x",
    "[" + "7" * 4301 + "]",
    "[b]" * 1000,
    "a[]=&" * 300,
    "event=ONCRMDEALADD",
    "event=ONCRMCOMPANYUPDATE",
    "&data[FIELDS][ID]=7405",
    "&data[FIELDS]=",
    "&ts=1766047124",
    "&auth[application_token]=" + TOKEN,
    "&auth%5Bapplication_token%5D=" + TOKEN,
    "&auth[application_token]=forged",
    "&auth[application_token]=",
    "&auth[application_token][]=" + TOKEN,
    "auth=x",
    VALID_FORM,
    VALID_FORM.replace(TOKEN, "forged"),
]


def _assert_answered(status: int, body: dict[str, Any], queue: FakeQueue, text: str) -> None:
    assert 200 <= status < 500, (status, body)
    if status >= 400:
        assert body["queued"] is False
        assert body["error"]
    if TOKEN not in text:
        assert queue.sent == [], "queued without the application token"
        assert status != 200
    assert len(queue.sent) == (1 if status == 200 else 0)


@generated(5000)
@given(spliced(FORM_PIECES), st.sampled_from([FORM, FORM + "; charset=utf-8", None]))
def test_generated_form_bodies_get_2xx_or_4xx_and_queue_only_with_the_token(
    handler: Handler, text: str, content_type: str | None
) -> None:
    status, body, queue = post(handler, text, content_type)
    _assert_answered(status, body, queue, text)


_JSON_KEY = st.sampled_from(["event", "data", "FIELDS", "ID", "ts", "auth", "application_token", "x", ""])
_JSON_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from([TOKEN, "ONCRMDEALADD", "7405", "9" * 5000])
)
_JSON_TREE = st.recursive(
    _JSON_SCALAR,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_JSON_KEY, children, max_size=3),
    max_leaves=8,
)
_SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


@generated(2500)
@given(
    st.dictionaries(_JSON_KEY, _JSON_TREE, max_size=4),
    st.booleans(),
    st.integers(0, 60_000),
    st.none() | _SURROGATE,
    st.sampled_from([JSON, "application/cloudevents+json", None]),
)
def test_generated_json_bodies_get_2xx_or_4xx_and_queue_only_with_the_token(
    handler: Handler,
    tree: dict[str, Any],
    start_valid: bool,
    depth: int,
    surrogate: str | None,
    content_type: str | None,
) -> None:
    document = {**VALID_JSON, **tree} if start_valid else tree
    text = json.dumps(document)
    if depth:
        text = text[:-1] + ("," if len(text) > 2 else "") + '"deep": ' + "[" * depth + "]" * depth + "}"
    if surrogate is not None:
        text = text.replace(TOKEN, json.dumps(surrogate)[1:-1] + TOKEN, 1)
    status, body, queue = post(handler, text, content_type)
    _assert_answered(status, body, queue, text)
    if depth > MAX_NESTING:
        assert status in (400, 413)


JSON_PIECES = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"',
    "\\",
    '"auth"',
    '"application_token"',
    json.dumps(TOKEN),
    '"forged"',
    '"\\ud800"',
    '"\\udfff\\ud800"',
    "1" * 4301,
    "1e999",
    "-0",
    "null",
    "[" * 5000,
    '{"a":' * 500,
    json.dumps(VALID_JSON)[:-1],
    json.dumps(VALID_JSON),
]


@generated(1500)
@given(spliced(JSON_PIECES, max_pieces=24), st.sampled_from([JSON, None]))
def test_generated_json_text_gets_2xx_or_4xx_and_queues_only_with_the_token(
    handler: Handler, text: str, content_type: str | None
) -> None:
    status, body, queue = post(handler, text, content_type)
    _assert_answered(status, body, queue, text)


@generated(1000)
@given(st.binary(max_size=200), st.sampled_from([FORM, JSON, "text/plain", None]))
def test_generated_raw_bytes_get_2xx_or_4xx_and_queue_nothing(
    handler: Handler, raw: bytes, content_type: str | None
) -> None:
    status, body, queue = post(handler, raw, content_type)
    _assert_answered(status, body, queue, raw.decode("utf-8", "replace"))


# --- well-signed but impossible events: refused, not queued ----------------------------------------

IMPOSSIBLE_EVENTS = {
    "id past 64 bits": VALID_FORM.replace("%5BID%5D=7405", "%5BID%5D=" + "1" + "0" * 40),
    "ts past 64 bits": VALID_FORM.replace("ts=1766047124", "ts=" + "9" * 30),
    "NUL in the event name": VALID_FORM.replace("event=ONCRMDEALADD", "event=ONCRMDEAL%00ADD"),
    "line break in the event name": VALID_FORM.replace("event=ONCRMDEALADD", "event=ONCRMDEALADD%0Ax"),
}


@pytest.mark.parametrize("body", IMPOSSIBLE_EVENTS.values(), ids=IMPOSSIBLE_EVENTS.keys())
def test_an_impossible_event_with_a_valid_token_is_400_and_not_queued(handler: Handler, body: str) -> None:
    status, answer, queue = post(handler, body)

    assert status == 400
    assert answer.get("error") or answer.get("message")
    assert queue.sent == []
