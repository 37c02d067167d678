"""POST /1c/events under hostile input: a signed, fresh, strict body or a 4xx with a reason and a
log line; never a 5xx, and no order is recomputed without a valid signature (handler in-process)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.deps import payments_context, push_secret, utc_now
from bridge.handlers import overridden
from bridge.payments.push import MAX_CLOCK_SKEW_S, PushBody, PushReport, sign, signed_headers
from sandbox.local.samples import http_samples, signed_now
from sandbox.template import ROOT
from tests.harness.lambda_edge import LambdaContext, generated, handler_module, http_event, spliced

SECRET = "s3cret-push"
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
REF = "5f1b2c3d-0000-4000-8000-000000000001"
VALID = json.dumps({"objects": [{"type": "Document_ЗаказПокупателя", "ref": REF}]}, ensure_ascii=False)


@dataclass
class Pushes:
    """Stands in for the recompute: records what the route decided to act on."""

    bodies: list[PushBody] = field(default_factory=list)

    def __call__(self, ctx: object, body: PushBody) -> PushReport:
        self.bodies.append(body)
        return PushReport()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = handler_module("OneCEventsFunction")
    monkeypatch.setattr(module, "handle_push", Pushes())
    return module


def post(
    app: ModuleType,
    body: str | bytes,
    headers: dict[str, str],
    *,
    secret: str = SECRET,
    now: datetime = NOW,
) -> tuple[int, dict[str, Any]]:
    event = http_event("/1c/events", body, {"content-type": "application/json", **headers})
    with overridden({payments_context: object(), push_secret: secret, utc_now: now}):
        response = app.handler(event, LambdaContext())
    assert response["headers"]["content-type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def signed(body: str | bytes, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return signed_headers(secret, raw, at)


def pushed(app: ModuleType) -> list[PushBody]:
    recorder: Pushes = app.handle_push
    return recorder.bodies


# --- the contract ----------------------------------------------------------------------------------


def test_a_fresh_signed_push_is_acted_upon(app: ModuleType) -> None:
    status, answer = post(app, VALID, signed(VALID))

    assert (status, answer) == (202, {"recomputed": [], "notified": 0, "left_to_poll": []})
    assert [o.ref for o in pushed(app)[0].objects] == [REF]


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(days=30), -timedelta(minutes=6)])
def test_a_replayed_or_future_push_is_refused(
    app: ModuleType, age: timedelta, caplog: pytest.LogCaptureFixture
) -> None:
    status, answer = post(app, VALID, signed(VALID, at=NOW - age))

    assert (status, answer["error"]) == (
        401,
        f"x-bridge-timestamp is more than {MAX_CLOCK_SKEW_S} s away from now",
    )
    assert pushed(app) == []
    assert [r.getMessage() for r in caplog.records] == ["1C push refused"]


def test_the_old_plain_token_header_is_refused(app: ModuleType) -> None:
    status, answer = post(app, VALID, {"x-bridge-token": SECRET})

    assert (status, answer["error"]) == (401, "missing x-bridge-signature")
    assert pushed(app) == []


def test_a_signature_over_another_timestamp_is_refused(app: ModuleType) -> None:
    headers = {
        "x-bridge-timestamp": str(int(NOW.timestamp())),
        "x-bridge-signature": sign(SECRET, 1, VALID.encode()),
    }
    status, _ = post(app, VALID, headers)

    assert status == 401
    assert pushed(app) == []


def test_no_configured_secret_refuses_everything_and_says_so_in_the_log(
    app: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    status, answer = post(app, VALID, signed(VALID, secret=""), secret="")

    assert (status, answer["error"]) == (401, "x-bridge-signature does not match")
    assert pushed(app) == []
    assert "no push secret is configured" in caplog.text


# --- the inputs that crashed into 500s -------------------------------------------------------------

BAD_BODIES = {
    "not JSON": ("objects: all", "body is not valid JSON"),
    "bad ref": (
        json.dumps({"objects": [{"type": "Document_ЗаказПокупателя", "ref": "not-a-guid"}]}),
        "objects.0.ref: not a 1C Ref_Key (GUID)",
    ),
    "unknown field": (
        json.dumps({"objects": [{"type": "Document_ЗаказПокупателя", "ref": REF}], "objekts": []}),
        "objekts: unknown field",
    ),
    "unknown field in an object": (
        json.dumps({"type": "Document_ЗаказПокупателя", "ref": REF, "reff": REF}),
        "objects.0.reff: unknown field",
    ),
    "30,000-deep JSON": ("[" * 30_000, "JSON nested deeper than 32 levels"),
    "lone surrogate": (VALID.replace(REF, "\\ud800"), "JSON string with a lone surrogate"),
    "4,301-digit number": ('{"objects": ' + "1" * 4301 + "}", "body is not valid JSON"),
    "not UTF-8": (b"\xff\xfe{}", "body is not UTF-8"),
}


@pytest.mark.parametrize(("body", "reason"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_malformed_signed_body_is_400_with_a_reason(
    app: ModuleType, body: str | bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, answer = post(app, body, signed(body))

    assert status == 400
    assert reason in answer["error"]
    assert pushed(app) == []
    assert [r.__dict__.get("status") for r in caplog.records if r.getMessage() == "1C push refused"] == [400]


@pytest.mark.parametrize(("body", "reason"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_malformed_unsigned_body_is_401_and_never_parsed(
    app: ModuleType, body: str | bytes, reason: str
) -> None:
    status, _ = post(app, body, signed(body, secret="forged"))

    assert status == 401
    assert pushed(app) == []


@pytest.mark.parametrize("sign_it", [True, False])
def test_a_body_over_32_kb_is_413(app: ModuleType, sign_it: bool) -> None:
    body = VALID[:-1] + ', "pad": "' + "x" * 33_000 + '"}'
    status, answer = post(app, body, signed(body) if sign_it else {})

    assert (status, answer["error"]) == (413, "body over 32768 bytes")
    assert pushed(app) == []


def test_bad_base64_is_400(app: ModuleType) -> None:
    event = http_event("/1c/events", "%%%", signed(b""))
    event["isBase64Encoded"] = True
    with overridden({payments_context: object(), push_secret: SECRET, utc_now: NOW}):
        response = app.handler(event, LambdaContext())

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "body is not valid base64"


def test_the_sample_event_is_signed_for_its_own_time_and_stale_now(app: ModuleType) -> None:
    sample = json.loads((ROOT / "events" / "onec_events" / "order_changed.json").read_text("utf-8"))
    sent_at = datetime.fromtimestamp(sample["requestContext"]["timeEpoch"] / 1000, UTC)

    def answer(now: datetime) -> int:
        with overridden({payments_context: object(), push_secret: "sandbox-push-secret", utc_now: now}):
            response = app.handler(sample, LambdaContext())
        status: int = response["statusCode"]
        return status

    assert answer(sent_at + timedelta(seconds=30)) == 202
    assert answer(sent_at + timedelta(hours=1)) == 401  # the same capture, replayed an hour later
    assert len(pushed(app)) == 1


# --- generated bodies: 6,000 spliced JSON + 3,000 JSON trees + 1,000 raw = 10,000 --------------------

ONEC_PIECES = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"',
    '"objects"',
    '"type"',
    '"ref"',
    '"Document_ЗаказПокупателя"',
    '"Document_ПоступлениеНаСчет"',
    '"Catalog_Контрагенты"',
    json.dumps(REF),
    '"not-a-guid"',
    '"\\ud800"',
    '"extra"',
    "1" * 4301,
    "null",
    "true",
    "[" * 2000,
    VALID,
    VALID[:-1],
    '{"type": "Document_ПоступлениеВКассу", "ref": "' + REF + '"}',
]
# How a generated request is authenticated; only "fresh" may ever reach the recompute.
AUTH = ["none", "fresh", "stale", "future", "forged", "token", "bad timestamp", "other body"]


def _headers(auth: str, raw: bytes) -> dict[str, str]:
    match auth:
        case "fresh":
            return signed_headers(SECRET, raw, NOW - timedelta(seconds=59))
        case "stale":
            return signed_headers(SECRET, raw, NOW - timedelta(seconds=MAX_CLOCK_SKEW_S + 1))
        case "future":
            return signed_headers(SECRET, raw, NOW + timedelta(seconds=MAX_CLOCK_SKEW_S + 1))
        case "forged":
            return signed_headers("forged", raw, NOW)
        case "token":
            return {"x-bridge-token": SECRET}
        case "bad timestamp":
            return {
                "x-bridge-timestamp": "１７００000000",
                "x-bridge-signature": sign(SECRET, "１７００000000", raw),
            }
        case "other body":
            return signed_headers(SECRET, raw + b" ", NOW)
    return {}


def _check(app: ModuleType, raw: bytes, auth: str) -> None:
    status, answer = post(app, raw, _headers(auth, raw))
    assert 200 <= status < 500, (status, answer)
    if status >= 400:
        assert isinstance(answer["error"], str)
        assert answer["error"]
    if auth != "fresh":
        assert status == 401 or status == 413
        assert pushed(app) == [], "acted upon without a valid, fresh signature"
    assert len(pushed(app)) == (1 if status == 202 else 0)
    pushed(app).clear()


@generated(6000)
@given(spliced(ONEC_PIECES, max_pieces=20), st.sampled_from(AUTH))
def test_generated_json_text_gets_2xx_or_4xx_and_acts_only_when_signed(
    app: ModuleType, text: str, auth: str
) -> None:
    _check(app, text.encode("utf-8", "surrogatepass"), auth)


_OBJECT = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["Document_ЗаказПокупателя", "Document_ПоступлениеВКассу", "x"])
        | st.integers(),
        "ref": st.sampled_from([REF, REF.upper(), "{" + REF + "}", ""]) | st.text(max_size=8) | st.integers(),
        "extra": st.none(),
    },
)


@generated(3000)
@given(
    st.one_of(
        _OBJECT,
        st.fixed_dictionaries(
            {"objects": st.lists(_OBJECT, max_size=3) | st.integers()}, optional={"x": st.none()}
        ),
        st.lists(_OBJECT, max_size=2),
    ),
    st.sampled_from(AUTH),
)
def test_generated_json_documents_get_2xx_or_4xx_and_act_only_when_signed(
    app: ModuleType, document: Any, auth: str
) -> None:
    _check(app, json.dumps(document, ensure_ascii=False).encode(), auth)


@generated(1000)
@given(st.binary(max_size=200), st.sampled_from(AUTH))
def test_generated_raw_bytes_get_2xx_or_4xx_and_act_only_when_signed(
    app: ModuleType, raw: bytes, auth: str
) -> None:
    _check(app, raw, auth)


def test_the_demo_signs_the_sample_again_for_now(app: ModuleType) -> None:
    sample = next(s for s in http_samples(ROOT / "events") if s.path == "/1c/events")
    assert post(app, sample.body, sample.headers, secret="sandbox-push-secret")[0] == 401  # stale

    fresh = signed_now(sample, "sandbox-push-secret", NOW)

    assert post(app, fresh.body, fresh.headers, secret="sandbox-push-secret")[0] == 202
    assert "x-bridge-token" not in fresh.headers
