"""The emulator's operating-time limit against the documented behaviour (README §1.5, limits.md).

Each method's server time is summed over 10 minutes in one-minute buckets; `time.operating` and
`time.operating_reset_at` report it on every answer; past the budget the method — and only that
method — answers 429 with the documented body until its buckets expire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.b24 import B24EmulatorConfig
from sandbox.b24.config import DEFAULT_METHOD_COSTS
from sandbox.world.rest import B24Rest
from tests.harness.clock import FakeTime

pytestmark = pytest.mark.contract

BLOCKED = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "b24" / "error.OPERATION_TIME_LIMIT.json").read_text("utf-8")
)


def is_blocked_answer(body: object) -> bool:
    """The documented body: the error code and its description, nothing else. The reference sample
    ends the text with a period, the RU system-errors page (fidelity-notes §8) without one: both are
    accepted (docs/sandbox-b24.md, needs a live check); the client keys on the code only."""
    if not isinstance(body, dict) or set(body) != set(BLOCKED) or body["error"] != BLOCKED["error"]:
        return False
    return str(body["error_description"]).rstrip(".") == str(BLOCKED["error_description"]).rstrip(".")


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(1_764_700_000.0)


@pytest.fixture
def rest(clock: FakeTime) -> Iterator[B24Rest]:
    rest = B24Rest.in_process(B24EmulatorConfig(operating_limit_enabled=True))
    rest.emulator.ledger.clock = clock
    yield rest
    rest.close()


def product(index: int) -> dict[str, Any]:
    return {"fields": {"iblockId": 23, "name": f"Товар {index}", "xmlId": f"op-{index}"}}


def add_batch(rest: B24Rest, start: int, count: int = 50) -> dict[str, Any]:
    status, body = rest.send(
        "batch",
        {
            "halt": 0,
            "cmd": {
                f"c{i}": f"catalog.product.add?fields[iblockId]=23&fields[name]=P{i}"
                for i in range(start, start + count)
            },
        },
    )
    assert status == 200, body
    return dict(body["result"])


def test_every_answer_reports_the_methods_operating_time_and_its_reset(
    rest: B24Rest, clock: FakeTime
) -> None:
    first = rest.send("catalog.product.add", product(1))[1]["time"]
    clock.now += 30
    second = rest.send("catalog.product.add", product(2))[1]["time"]

    cost = DEFAULT_METHOD_COSTS["catalog.product.add"]
    assert first["operating"] == pytest.approx(cost, abs=0.05)
    assert second["operating"] == pytest.approx(2 * cost, abs=0.1)
    # Both calls fell into the first one-minute bucket: it is released 10 minutes after it opened.
    assert first["operating_reset_at"] == second["operating_reset_at"] == int(clock.now - 30 + 600)
    # Other methods keep their own sum.
    assert rest.send("catalog.price.list", {"filter": {"productId": 1}})[1]["time"]["operating"] < cost


def test_a_ten_thousand_product_load_sent_flat_out_crosses_the_default_budget(rest: B24Rest) -> None:
    # 200 batches of 50 adds within one window: what one batch bills, times 200, exceeds 480 s.
    result = add_batch(rest, 0)
    assert not result["result_error"]
    billed = max(t["operating"] for t in result["result_time"].values())
    assert billed * 200 > rest.emulator.config.operating_budget_seconds


def test_past_the_budget_the_method_answers_the_documented_429_and_others_keep_working(
    rest: B24Rest, clock: FakeTime
) -> None:
    rest.client.post("/_sandbox/rate-limit", json={"method_costs": {"catalog.product.add": 100.0}})
    answers = [rest.send("catalog.product.add", product(i)) for i in range(6)]

    assert [status for status, _ in answers] == [200] * 5 + [429]
    assert is_blocked_answer(answers[-1][1])  # exactly the documented body: error + description, no result
    assert answers[4][1]["time"]["operating"] > 480
    assert rest.send("catalog.product.list", {"filter": {"iblockId": 23}})[0] == 200
    assert (
        rest.send(
            "catalog.price.add",
            {"fields": {"productId": 1, "catalogGroupId": 1, "price": 1, "currency": "RUB"}},
        )[0]
        == 200
    )


def test_inside_a_batch_only_the_blocked_methods_commands_fail(rest: B24Rest) -> None:
    rest.client.post("/_sandbox/rate-limit", json={"method_costs": {"catalog.product.add": 500.0}})
    assert rest.send("catalog.product.add", product(1))[0] == 200

    status, body = rest.send(
        "batch",
        {
            "halt": 0,
            "cmd": {
                "p": "catalog.product.add?fields[iblockId]=23&fields[name]=X",
                "l": "catalog.product.list?filter[iblockId]=23",
            },
        },
    )

    assert status == 200  # the outer batch is not blocked, its nested command is
    assert is_blocked_answer(body["result"]["result_error"]["p"])
    assert "l" in body["result"]["result"]


def test_the_block_lifts_when_the_oldest_buckets_expire(rest: B24Rest, clock: FakeTime) -> None:
    rest.client.post("/_sandbox/rate-limit", json={"method_costs": {"catalog.product.add": 250.0}})
    rest.send("catalog.product.add", product(1))
    clock.now += 120  # a second one-minute bucket
    reset_at = rest.send("catalog.product.add", product(2))[1]["time"]["operating_reset_at"]
    assert rest.send("catalog.product.add", product(3))[0] == 429

    clock.now = reset_at + 1  # the first bucket (250 s) is released; 250 s remain
    status, body = rest.send("catalog.product.add", product(4))
    assert status == 200
    assert body["time"]["operating"] == pytest.approx(500, abs=1)


def test_with_the_limit_off_only_real_processing_time_is_billed() -> None:
    rest = B24Rest.in_process(B24EmulatorConfig(operating_limit_enabled=False))
    try:
        times = [rest.send("catalog.product.add", product(i))[1]["time"] for i in range(3)]
        assert times[-1]["operating"] < DEFAULT_METHOD_COSTS["catalog.product.add"]
    finally:
        rest.close()
