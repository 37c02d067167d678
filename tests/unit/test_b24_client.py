"""Single calls: envelopes, retries, redirects, the operating-time budget, secrets kept out of text."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.b24.client import B24Client
from bridge.b24.errors import (
    AuthError,
    B24Unavailable,
    MethodNotFound,
    OperationTimeLimit,
    QueryLimitExceeded,
    ValidationFailed,
)
from bridge.errors import TransientError
from tests.harness.clock import FakeTime

FIXTURES = Path(__file__).parents[1] / "fixtures" / "b24"
CODE = "8g9l071eismy9q2l"
WEBHOOK = f"https://example.bitrix24.ru/rest/1/{CODE}/"

type Answer = tuple[int, Any] | Exception | Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


class Portal:
    """Plays queued answers in order and keeps every request the client sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        status, body = answer
        return httpx.Response(status, json=body)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self, cost: int = 1) -> None:
        self.acquired += cost


def make_client(
    portal: Portal, fake_time: FakeTime | None = None, **options: Any
) -> tuple[B24Client, CountingLimiter]:
    fake_time = fake_time or FakeTime()
    limiter = CountingLimiter()
    client = B24Client(
        WEBHOOK,
        limiter=limiter,
        http=httpx.Client(transport=httpx.MockTransport(portal)),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        logger=logging.getLogger("test.b24"),
        **options,
    )
    return client, limiter


def ok(result: Any = True, **time: Any) -> tuple[int, Any]:
    return 200, {"result": result, "time": time}


QUERY_LIMIT = (503, fixture("error.QUERY_LIMIT_EXCEEDED.json"))


# --- envelopes ---------------------------------------------------------------------------------


def test_call_posts_json_to_the_method_url_and_returns_the_result() -> None:
    portal = Portal((200, fixture("crm.deal.add.response.json")))
    client, limiter = make_client(portal)
    params = {"fields": {"TITLE": "Заказ", "OPPORTUNITY": 1000}}

    response = client.call("crm.deal.add", params)

    assert response.result == 394
    assert response.total is None
    assert response.next is None
    assert response.time.operating == 0.0
    assert response.time.operating_reset_at is None
    assert response.time.date_start == "2024-08-30T12:19:57+02:00"
    request = portal.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{WEBHOOK}crm.deal.add.json"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == params
    assert limiter.acquired == 1


def test_list_page_carries_next_and_total() -> None:
    client, _ = make_client(Portal((200, fixture("list.page-with-next.userfieldconfig.list.response.json"))))
    response = client.call("userfieldconfig.list", {"moduleId": "crm"})
    assert (response.next, response.total) == (50, 94)
    assert response.result["fields"][0]["id"] == "7095"


def test_every_documented_time_key_is_read() -> None:
    body = {"result": True, **fixture("time.object.json")}
    client, _ = make_client(Portal((200, body)))
    time = client.call("user.current").time
    assert time.operating_reset_at == 1757425271
    assert time.operating == pytest.approx(0.6726338863372803)
    assert time.processing == pytest.approx(0.6726489067077637)
    assert time.date_finish == "2025-09-09T16:31:12+03:00"


def test_missing_time_keys_are_none() -> None:
    client, _ = make_client(Portal((200, {"result": []}), (200, fixture("crm.company.list.response.json"))))
    assert client.call("crm.company.list").time.start is None
    listed = client.call("crm.company.list")
    assert listed.total == 1
    assert listed.time.start == 1769498859.0
    assert listed.time.operating_reset_at == 1769499459


# --- retries -----------------------------------------------------------------------------------


def test_query_limit_is_retried_with_growing_delays_then_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    fake_time = FakeTime()
    portal = Portal(QUERY_LIMIT, QUERY_LIMIT, ok(42))
    client, limiter = make_client(portal, fake_time, backoff_base_s=1.0)

    with caplog.at_level(logging.WARNING, logger="test.b24"):
        assert client.call("crm.deal.get", {"id": 1}).result == 42

    assert len(portal.requests) == 3
    assert limiter.acquired == 3  # every attempt pays for its request
    first, second = fake_time.sleeps
    assert 0.5 <= first < 1.5
    assert 1.0 <= second < 3.0
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2


def test_server_errors_and_overload_are_retried() -> None:
    portal = Portal(
        (500, {"error": "INTERNAL_SERVER_ERROR", "error_description": ""}),
        (503, {"error": "OVERLOAD_LIMIT", "error_description": "REST API is blocked due to overload"}),
        ok("done"),
    )
    client, _ = make_client(portal)
    assert client.call("crm.deal.update").result == "done"
    assert len(portal.requests) == 3


def test_retries_stop_after_max_attempts() -> None:
    portal = Portal(*[QUERY_LIMIT] * 4)
    client, _ = make_client(portal, max_attempts=4)
    with pytest.raises(QueryLimitExceeded):
        client.call("crm.deal.list")
    assert len(portal.requests) == 4


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, fixture("crm.deal.add.error.json"), ValidationFailed),
        (401, fixture("error.NO_AUTH_FOUND.json"), AuthError),
        (404, fixture("error.ERROR_METHOD_NOT_FOUND.json"), MethodNotFound),
    ],
)
def test_client_errors_are_never_retried(status: int, body: Any, expected: type[Exception]) -> None:
    fake_time = FakeTime()
    portal = Portal((status, body), ok())
    client, _ = make_client(portal, fake_time)
    with pytest.raises(expected):
        client.call("crm.deal.add", {"fields": []})
    assert len(portal.requests) == 1
    assert fake_time.sleeps == []


def test_timeouts_are_retried_then_reported_as_unavailable_without_the_secret() -> None:
    timeouts = [httpx.ReadTimeout(f"timed out reading {WEBHOOK}crm.deal.get.json") for _ in range(4)]
    portal = Portal(*timeouts)
    client, _ = make_client(portal)

    with pytest.raises(B24Unavailable) as caught:
        client.call("crm.deal.get", {"id": 1})

    assert len(portal.requests) == 4
    assert isinstance(caught.value, TransientError)
    assert "ReadTimeout" in str(caught.value)
    assert CODE not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_connection_error_then_success() -> None:
    portal = Portal(httpx.ConnectError("connection refused"), ok(7))
    client, _ = make_client(portal)
    assert client.call("crm.deal.get").result == 7


# --- portal rename -----------------------------------------------------------------------------


def test_redirect_is_followed_by_reposting_the_same_body_and_remembered() -> None:
    new_base = f"https://renamed.bitrix24.ru/rest/1/{CODE}/"
    portal = Portal(
        lambda request: httpx.Response(302, headers={"Location": f"{new_base}crm.deal.add.json"}),
        ok(10),
        ok(11),
    )
    client, limiter = make_client(portal)

    assert client.call("crm.deal.add", {"fields": {"TITLE": "A"}}).result == 10
    assert client.call("crm.deal.add", {"fields": {"TITLE": "B"}}).result == 11

    assert [r.method for r in portal.requests] == ["POST", "POST", "POST"]
    assert str(portal.requests[1].url) == f"{new_base}crm.deal.add.json"
    assert portal.bodies()[1] == {"fields": {"TITLE": "A"}}
    assert str(portal.requests[2].url) == f"{new_base}crm.deal.add.json"
    assert limiter.acquired == 2  # one logical call, one slot: the bucket counts portal requests


# --- operating-time budget ---------------------------------------------------------------------


def test_method_near_its_budget_waits_for_a_close_reset() -> None:
    fake_time = FakeTime()
    portal = Portal(ok(1, operating=440.0, operating_reset_at=fake_time.now + 12), ok(2))
    client, _ = make_client(portal, fake_time)

    client.call("crm.deal.list")
    assert client.call("crm.deal.list").result == 2

    assert fake_time.sleeps == [pytest.approx(12.0)]
    assert len(portal.requests) == 2


def test_method_near_its_budget_with_a_distant_reset_is_refused_without_a_request() -> None:
    fake_time = FakeTime()
    reset_at = fake_time.now + 300
    portal = Portal(ok(1, operating=440.0, operating_reset_at=reset_at), ok("other method"))
    client, _ = make_client(portal, fake_time)
    client.call("crm.deal.list")

    with pytest.raises(OperationTimeLimit) as caught:
        client.call("CRM.DEAL.LIST")

    assert caught.value.operating_reset_at == reset_at
    assert isinstance(caught.value, TransientError)
    assert len(portal.requests) == 1
    assert client.call("crm.deal.get").result == "other method"  # other methods keep working


def test_operating_below_headroom_does_not_wait() -> None:
    fake_time = FakeTime()
    portal = Portal(ok(1, operating=400.0, operating_reset_at=fake_time.now + 300), ok(2))
    client, _ = make_client(portal, fake_time)
    client.call("crm.deal.list")
    client.call("crm.deal.list")
    assert fake_time.sleeps == []


def test_429_with_a_close_known_reset_waits_once_then_retries() -> None:
    fake_time = FakeTime()
    limit = fixture("error.OPERATION_TIME_LIMIT.json")
    portal = Portal(
        ok(1, operating=300.0, operating_reset_at=fake_time.now + 5),
        (429, limit),
        ok(2),
    )
    client, _ = make_client(portal, fake_time)
    client.call("crm.deal.list")

    assert client.call("crm.deal.list").result == 2
    assert sum(fake_time.sleeps) == pytest.approx(5.0)
    assert len(portal.requests) == 3


def test_429_without_a_known_reset_is_raised_and_the_method_is_not_hammered() -> None:
    portal = Portal((429, fixture("error.OPERATION_TIME_LIMIT.json")), ok("fine"))
    client, _ = make_client(portal)

    with pytest.raises(OperationTimeLimit):
        client.call("crm.deal.list")
    with pytest.raises(OperationTimeLimit):
        client.call("crm.deal.list")

    assert len(portal.requests) == 1
    assert client.call("crm.deal.get").result == "fine"


# --- secrets -----------------------------------------------------------------------------------


def test_repr_hides_the_webhook_code() -> None:
    client, _ = make_client(Portal())
    assert CODE not in repr(client)
    assert "example.bitrix24.ru" in repr(client)


def test_retry_logs_and_errors_never_show_the_webhook_code(caplog: pytest.LogCaptureFixture) -> None:
    leaky = httpx.ConnectError(f"cannot connect to {WEBHOOK}crm.deal.get.json (code {CODE})")
    portal = Portal(leaky, leaky)
    client, _ = make_client(portal, max_attempts=2)

    with caplog.at_level(logging.DEBUG, logger="test.b24"), pytest.raises(B24Unavailable) as caught:
        client.call("crm.deal.get")

    assert caplog.records
    assert all(CODE not in record.getMessage() for record in caplog.records)
    assert CODE not in str(caught.value)
    assert "***" in str(caught.value)


def test_error_descriptions_echoing_the_url_are_masked() -> None:
    body = {"error": "INVALID_REQUEST", "error_description": f"Bad url {WEBHOOK}x.json"}
    client, _ = make_client(Portal((400, body)))
    with pytest.raises(ValidationFailed) as caught:
        client.call("x")
    assert CODE not in str(caught.value)
    assert CODE not in caught.value.description


# --- wiring ------------------------------------------------------------------------------------


def test_client_is_built_from_settings_without_leaking_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge import deps
    from bridge.settings import reset_caches
    from bridge.store import SharedBucket

    environment = {
        "BRIDGE_TABLE_NAME": "SyncTable-test",
        "BRIDGE_B24_WEBHOOK_URL": WEBHOOK,
        "BRIDGE_B24_APPLICATION_TOKEN": "t0ken",
        "BRIDGE_ONEC_BASE_URL": "http://1c.local/unf/odata/standard.odata/",
        "BRIDGE_ONEC_USER": "odata",
        "BRIDGE_ONEC_PASSWORD": "secret-password",
        "BRIDGE_B24_RATE_LIMIT": '{"burst": 250, "per_second": 5, "operating_budget_s": 420}',
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("BRIDGE_SECRET_ID", raising=False)
    reset_caches()
    deps.reset()
    try:
        client = deps.b24_client()
        assert deps.b24_client() is client
        assert CODE not in repr(client)
        assert client.operating.budget_s == 420
        limiter = client.limiter
        assert isinstance(limiter, SharedBucket)
        assert (limiter.table_name, limiter.burst, limiter.per_second) == ("SyncTable-test", 250, 5.0)
    finally:
        deps.reset()
        reset_caches()
