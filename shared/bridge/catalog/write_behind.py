"""Records a run's batches in SyncTable behind the sending, in as few writes as the pace allows."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from bridge.catalog.state import Pending, merge_pending
from bridge.observability import logger


class Recordable(Protocol):
    """What the recorder needs of the manifest buffer (`bridge.catalog.state.ManifestBuffer`)."""

    def take(self) -> Pending: ...

    def write(self, pending: Pending) -> None: ...


class WriteBehind:
    """Takes each batch's manifest changes after its answer and writes them from one thread.

    Sending never waits for DynamoDB. The writer takes every batch recorded since its last write
    and writes them as one change (`put_changes`: one request for many entries), at most once
    per `interval` seconds. At full speed (a 1,000-product first load sends a batch every few
    milliseconds) that is a few writes per run instead of one per batch: each write is a request
    and its CPU on the two cores the load shares (docs/performance.md, P1). Paced by the rate
    limit (a batch every half second), every batch still gets its own write.

    No more than `lag` batches wait unwritten: the writer goes at once when that many are
    waiting, and the sender waits while more are. Two batches of one run never touch the same
    manifest entry (each object is one unit; an object's item, price and stock are separate
    entries), so merging them loses nothing. Should the run die with batches unwritten, those
    products exist in Bitrix24 unrecorded: the next run's probe finds the catalog not empty and
    adopts them by `xmlId` instead of creating duplicates.

    A failed write stops the recorder. The sender sees the error at its next batch or when the
    run ends, whichever comes first, and the run fails with it.
    """

    def __init__(self, buffer: Recordable, *, interval: float = 0.25, lag: int = 32) -> None:
        self._buffer = buffer
        self._interval = interval
        self._lag = lag
        self._changed = threading.Condition()
        self._recorded: list[Pending] = []
        self._closing = False
        self._failure: BaseException | None = None
        self._writes = 0
        self._thread = threading.Thread(target=self._run, name="manifest-writer", daemon=True)
        self._thread.start()

    @property
    def writes(self) -> int:
        """How many writes the recorder made so far (for the bench and the tests)."""
        return self._writes

    def after_batch(self) -> None:
        pending = self._buffer.take()
        with self._changed:
            self._raise_failure()
            self._recorded.append(pending)
            self._changed.notify_all()
            while len(self._recorded) > self._lag and self._failure is None:
                self._changed.wait()
            self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        written_at = float("-inf")
        while True:
            with self._changed:
                while not self._recorded and not self._closing:
                    self._changed.wait()
                if not self._recorded:
                    return
                while not self._closing and len(self._recorded) < self._lag:
                    remaining = written_at + self._interval - time.monotonic()
                    if remaining <= 0:
                        break
                    self._changed.wait(remaining)
                recorded, self._recorded = self._recorded, []
                self._changed.notify_all()
            try:
                self._buffer.write(merge_pending(recorded))
            except BaseException as error:  # handed to the sender, which fails the run with it
                logger.error(
                    "could not record sent batches in SyncTable; the run stops, and the next one adopts "
                    "what they created by xmlId",
                    extra={"batches": len(recorded), "error": type(error).__name__, "reason": str(error)},
                )
                with self._changed:
                    self._failure = error
                    self._changed.notify_all()
                return
            self._writes += 1
            written_at = time.monotonic()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._thread.join()
        if exc[0] is None:
            self._raise_failure()
