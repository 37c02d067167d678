"""The per-record time budget the HTTP clients honour."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bridge import deadline
from bridge.onec.client import ODataClient
from bridge.onec.errors import ODataError
from tests.harness.clock import FakeTime


@pytest.fixture
def clock() -> Iterator[FakeTime]:
    clock = FakeTime(1000.0)
    deadline.use_clock(clock)
    yield clock
    deadline.use_clock(__import__("time").monotonic)


def test_outside_a_budget_nothing_is_cut(clock: FakeTime) -> None:
    assert deadline.remaining() is None
    assert deadline.request_timeout(20, "x") == 20
    assert deadline.may_wait(100)


def test_a_budget_cuts_the_timeout_and_an_inner_one_never_extends_the_outer(clock: FakeTime) -> None:
    with deadline.budget(10):
        assert deadline.request_timeout(20, "x") == 10
        with deadline.budget(60):
            assert deadline.remaining() == 10
        clock.now += 9.8
        with pytest.raises(deadline.OutOfTime):
            deadline.request_timeout(20, "1C GET")
    assert deadline.remaining() is None


def test_the_1c_client_gives_up_a_retry_that_cannot_finish_in_the_budget(clock: FakeTime) -> None:
    calls: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(float(request.extensions["timeout"]["read"]))
        clock.now += 3  # the server took 3 s to fail
        return httpx.Response(503, json={"odata.error": {"code": "-1", "message": {"value": "down"}}})

    client = ODataClient(
        "http://1c.test/odata/standard.odata/",
        "u",
        "p",
        http=httpx.Client(transport=httpx.MockTransport(answer)),
        max_attempts=4,
        sleep=lambda s: setattr(clock, "now", clock.now + s),
        backoff_base_s=1,
    )
    with deadline.budget(5), pytest.raises(ODataError):
        client.get("Catalog_Контрагенты", "b1c89da7-cb6a-11e6-aede-5404a6b4b8ed")
    # 3 s spent, 1 s back-off would leave 1 s: one more attempt with a 1 s timeout, then no time.
    assert calls == [5.0, 1.0]
