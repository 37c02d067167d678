"""Our client against the emulator's operating-time limit: paced on `time.operating`, never blocked.

The emulator's ledger and the client share a fake clock, so ten minutes of budget window pass in
no real time; the client's waits advance that clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.b24.client import B24Client
from bridge.b24.errors import OperationTimeLimit
from bridge.b24.models import Command
from bridge.b24.ratelimit import LocalBucket
from sandbox.b24 import B24EmulatorConfig
from sandbox.world.rest import B24Rest
from tests.harness.clock import FakeTime

pytestmark = pytest.mark.integration

ADD_COST = 2.0  # s per catalog.product.add: a batch of 50 bills 100 s, 240 adds reach 480 s


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(1_764_700_000.0)


@pytest.fixture
def rest(fake_time: FakeTime) -> Iterator[B24Rest]:
    rest = B24Rest.in_process(
        B24EmulatorConfig(operating_limit_enabled=True, method_costs={"catalog.product.add": ADD_COST})
    )
    rest.emulator.ledger.clock = fake_time.clock
    yield rest
    rest.close()


def client(rest: B24Rest, fake_time: FakeTime, max_wait_s: float) -> B24Client:
    return B24Client(
        "http://testserver" + rest.base + "/",
        http=rest.client,
        limiter=LocalBucket(clock=fake_time.clock, sleep=fake_time.sleep),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        max_operating_wait_s=max_wait_s,
    )


def load(b24: B24Client, count: int) -> int:
    created = 0
    for start in range(0, count, 50):
        commands = {
            f"c{i}": Command("catalog.product.add", {"fields": {"iblockId": 23, "name": f"P{i}"}})
            for i in range(start, min(start + 50, count))
        }
        answer = b24.batch(commands)
        assert not answer.errors, answer.errors
        created += len(answer.result)
    return created


def test_a_load_worth_two_budgets_finishes_without_one_blocked_call(
    rest: B24Rest, fake_time: FakeTime
) -> None:
    b24 = client(rest, fake_time, max_wait_s=700)

    assert load(b24, 500) == 500  # 1 000 s of server time against 480 s per 10 minutes

    journal = rest.client.get("/_sandbox/calls").json()["calls"]
    assert not [c for c in journal if c.get("error") == "OPERATION_TIME_LIMIT"]
    assert len(rest.client.get("/_sandbox/tables/products").json()) >= 500
    # It had to wait for the window: at least one full window passed on the shared clock.
    assert fake_time.slept >= 600


def test_a_wait_beyond_what_the_caller_allows_is_refused_before_sending(
    rest: B24Rest, fake_time: FakeTime
) -> None:
    b24 = client(rest, fake_time, max_wait_s=30)

    with pytest.raises(OperationTimeLimit) as caught:
        load(b24, 500)

    journal = rest.client.get("/_sandbox/calls").json()["calls"]
    assert not [c for c in journal if c.get("error") == "OPERATION_TIME_LIMIT"]
    assert caught.value.operating_reset_at is not None
    assert caught.value.operating_reset_at > fake_time.now
