"""The catalog run's recorder: every sent batch recorded once, in few writes, failures not lost."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.catalog.state import Pending
from bridge.catalog.write_behind import WriteBehind


class _Buffer:
    """A manifest buffer that hands out prepared batches and keeps what was written."""

    def __init__(self, batches: list[Pending], fail_on_write: int | None = None) -> None:
        self._batches = iter(batches)
        self.written: list[Pending] = []
        self._fail_on_write = fail_on_write
        self.release = threading.Event()
        self.release.set()

    def take(self) -> Pending:
        return next(self._batches)

    def write(self, pending: Pending) -> None:
        self.release.wait()
        if self._fail_on_write is not None and len(self.written) + 1 >= self._fail_on_write:
            raise ConnectionError("SyncTable unreachable")
        self.written.append(pending)


def _batch(index: int, size: int = 3) -> Pending:
    return {"items": {f"ref-{index}-{n}": f"{index}|{n}" for n in range(size)}}, {}


def _entries(written: list[Pending]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for entries, _ in written:
        for ref, value in entries.get("items", {}).items():
            assert ref not in merged, f"{ref} written twice"
            merged[ref] = value
    return merged


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=8))
def test_every_batch_sent_is_recorded_exactly_once(batches: int, lag: int) -> None:
    buffer = _Buffer([_batch(i) for i in range(batches)])
    with WriteBehind(buffer, interval=0.001, lag=lag) as recorder:
        for _ in range(batches):
            recorder.after_batch()
    assert _entries(buffer.written) == _entries([_batch(i) for i in range(batches)])
    assert recorder.writes == len(buffer.written) <= batches


def test_batches_sent_faster_than_the_interval_share_a_write() -> None:
    buffer = _Buffer([_batch(i) for i in range(50)])
    with WriteBehind(buffer, interval=60.0, lag=100) as recorder:
        for _ in range(50):
            recorder.after_batch()
    # The first batch is written at once; the rest wait out the interval, and the run's end
    # writes them together instead of waiting.
    assert 1 <= recorder.writes <= 2
    assert len(_entries(buffer.written)) == 150


def test_a_full_lag_is_written_without_waiting_out_the_interval() -> None:
    buffer = _Buffer([_batch(i) for i in range(20)])
    buffer.release.clear()  # the first write hangs until the sender has queued a lag's worth
    recorder = WriteBehind(buffer, interval=60.0, lag=4)
    recorder.after_batch()

    def send_the_rest() -> None:
        for _ in range(19):
            recorder.after_batch()

    sent = threading.Thread(target=send_the_rest)
    sent.start()
    buffer.release.set()
    sent.join(timeout=30)
    assert not sent.is_alive(), "the sender stayed blocked behind a full lag"
    recorder.__exit__(None, None, None)
    assert len(_entries(buffer.written)) == 60


def _send(
    buffer: _Buffer, batches: int, *, interval: float, lag: int = 32, then: Exception | None = None
) -> None:
    with WriteBehind(buffer, interval=interval, lag=lag) as recorder:
        for _ in range(batches):
            recorder.after_batch()
        if then is not None:
            raise then


def test_a_failed_write_fails_the_run_and_keeps_what_was_written(caplog: pytest.LogCaptureFixture) -> None:
    buffer = _Buffer([_batch(i) for i in range(10)], fail_on_write=2)
    with pytest.raises(ConnectionError, match="SyncTable unreachable"):
        _send(buffer, 10, interval=0.0, lag=1)
    failures = [r for r in caplog.records if r.getMessage().startswith("could not record sent batches")]
    assert len(failures) == 1
    assert failures[0].levelname == "ERROR"
    # One write landed (it took whatever batches were waiting), the second failed, and the
    # sender stopped instead of queueing more behind a dead writer.
    assert len(buffer.written) == 1
    landed = len(_entries(buffer.written)) // 3
    assert 1 <= landed < 10
    assert _entries(buffer.written) == _entries([_batch(i) for i in range(landed)])


def test_an_error_of_the_run_itself_is_not_replaced_by_the_recorder() -> None:
    buffer = _Buffer([_batch(i) for i in range(3)])
    with pytest.raises(RuntimeError, match="Bitrix24 gone"):
        _send(buffer, 2, interval=60.0, then=RuntimeError("Bitrix24 gone"))
    # What was sent before the error is still recorded.
    assert len(_entries(buffer.written)) == 6
