"""SyncStore's resolved configuration and the payments order lease, against moto over HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from bridge.errors import SetupMissing
from bridge.observability import metrics
from bridge.store import OrderBusy, SyncStore

pytestmark = pytest.mark.integration

ORDER = "b1c89da7-cb6a-11e6-aede-5404a6b4b8ed"


class Ids(BaseModel):
    model_config = ConfigDict(frozen=True)
    iblock_id: int
    currency: str = "RUB"


@pytest.fixture
def store(sync_table: str, dynamodb: Any) -> SyncStore:
    return SyncStore(sync_table, dynamodb)


def test_missing_configuration_names_the_flow_and_the_fix_and_is_logged(
    store: SyncStore, caplog: pytest.LogCaptureFixture
) -> None:
    metrics.clear_metrics()
    with caplog.at_level(logging.ERROR), pytest.raises(SetupMissing) as raised:
        store.resolved("catalog", Ids).load()
    counted = metrics.metric_set.get("SetupMissing")
    metrics.clear_metrics()

    message = str(raised.value)
    assert "catalog" in message
    assert "CONFIG#catalog" in message
    assert "python -m bridge setup" in message
    assert any(
        "catalog" in record.getMessage() and record.levelno == logging.ERROR for record in caplog.records
    )
    assert counted is not None
    assert counted["Value"] == [1.0]  # the alarm's metric (issue 13)
    assert store.resolved("catalog", Ids).find() is None


def test_saved_configuration_is_read_back_typed(store: SyncStore) -> None:
    store.resolved("catalog", Ids).save(Ids(iblock_id=14))

    assert store.resolved("catalog", Ids).load() == Ids(iblock_id=14)
    assert store.config.get("catalog") == {"iblock_id": 14, "currency": "RUB"}


def test_a_rerun_of_setup_takes_effect_with_the_next_read_even_from_another_process(
    store: SyncStore, sync_table: str, dynamodb: Any
) -> None:
    store.resolved("catalog", Ids).save(Ids(iblock_id=14))
    assert store.resolved("catalog", Ids).load().iblock_id == 14

    SyncStore(sync_table, dynamodb).resolved("catalog", Ids).save(Ids(iblock_id=15))
    assert store.resolved("catalog", Ids).load().iblock_id == 15


def test_unreadable_or_outdated_configuration_asks_for_setup_again(store: SyncStore) -> None:
    store.config.put("catalog", {"currency": "RUB"})
    with pytest.raises(SetupMissing, match="unreadable"):
        store.resolved("catalog", Ids).load()

    store.config.put("catalog", {"iblock_id": 3})
    with pytest.raises(SetupMissing, match="older setup"):
        store.resolved("catalog", Ids, outdated=lambda raw: "currency" not in raw).load()


def test_the_lease_is_a_with_block_that_saves_on_success_only(store: SyncStore) -> None:
    with store.leases.hold(ORDER, 60) as lease:
        assert lease.state is None
        lease.save('{"n": 1}')
    assert store.leases.peek(ORDER) == '{"n": 1}'

    def fail_half_way() -> None:
        with store.leases.hold(ORDER, 60) as lease:
            assert lease.state == '{"n": 1}'
            lease.save('{"n": 2}')
            raise RuntimeError("the run failed half-way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert store.leases.peek(ORDER) == '{"n": 1}'  # not saved, and the lease was given back

    with store.leases.hold(ORDER, 60) as lease:
        assert lease.state == '{"n": 1}'


def test_a_held_lease_turns_a_second_holder_away(store: SyncStore) -> None:
    with store.leases.hold(ORDER, 60) as first:
        with pytest.raises(OrderBusy), store.leases.hold(ORDER, 60):
            pass
        first.save('{"kept": true}')
    assert store.leases.peek(ORDER) == '{"kept": true}'
