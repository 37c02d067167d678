"""Which Bitrix24 modification of a deal the link has accounted for (bridge.deals.seen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bridge.b24.models import CallTime
from bridge.deals.seen import SEEN_KEY, modified_since, seen_text, written_at
from bridge.store import B24Ref, Link, OneCRef

MSK = timezone(timedelta(hours=3))
SYNCED = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)


def link(seen: str | None = None) -> Link:
    return Link(
        b24=B24Ref(entity="DEAL", id="7"),
        onec=OneCRef(entity_set="Document_ЗаказПокупателя", ref="0" * 8 + "-0000-0000-0000-" + "0" * 12),
        fingerprint="fp",
        synced_at=SYNCED,
        extra={} if seen is None else {SEEN_KEY: seen},
    )


def test_without_a_seen_mark_the_link_time_decides() -> None:
    assert modified_since(SYNCED + timedelta(seconds=1), link())
    assert not modified_since(SYNCED, link())


def test_the_seen_mark_decides_on_bitrix24s_clock_whatever_its_offset() -> None:
    written = datetime(2026, 3, 1, 12, 0, 7, tzinfo=MSK)  # 09:00:07 UTC
    marked = link(seen_text(written))
    assert not modified_since(datetime(2026, 3, 1, 12, 0, 7, tzinfo=MSK), marked)
    assert not modified_since(datetime(2026, 3, 1, 9, 0, 7, tzinfo=UTC), marked)
    assert modified_since(datetime(2026, 3, 1, 12, 0, 8, tzinfo=MSK), marked)


def test_what_cannot_be_compared_is_left_to_the_worker() -> None:
    assert modified_since(None, link())
    assert modified_since(datetime(2026, 3, 1, 12, 0, 8), link(seen_text(SYNCED)))  # no offset
    assert modified_since(SYNCED + timedelta(seconds=1), link("not a moment"))  # damaged mark: link time


def test_the_finish_time_of_a_command_is_read_from_either_form() -> None:
    assert written_at(CallTime(finish=1_772_355_607.25)) == datetime(2026, 3, 1, 9, 0, 7, 250_000, tzinfo=UTC)
    assert written_at(CallTime(date_finish="2026-03-01T12:00:07+03:00")) == datetime(
        2026, 3, 1, 12, 0, 7, tzinfo=MSK
    )
    assert written_at(CallTime()) is None
    assert written_at(CallTime(date_finish="01.03.2026")) is None
    assert written_at(None) is None


@given(
    second=st.integers(min_value=1_600_000_000, max_value=2_000_000_000),
    micros=st.integers(min_value=0, max_value=999_999),
    offset_h=st.integers(min_value=-12, max_value=14),
)
def test_our_write_is_never_newer_than_its_commands_finish(second: int, micros: int, offset_h: int) -> None:
    """DATE_MODIFY is set while the command runs and carries whole seconds, in the portal's zone:
    once the finish time is recorded, our own write never counts as a later modification, and
    anything in a later second does."""
    own_write = datetime.fromtimestamp(second, timezone(timedelta(hours=offset_h)))
    marked = link(seen_text(written_at(CallTime(finish=second + micros / 1_000_000)) or SYNCED))
    assert not modified_since(own_write, marked)
    assert modified_since(own_write + timedelta(seconds=1), marked)
