"""Packing units of work into `batch` calls of at most 50 commands, and recording after each.

A unit is the commands of one object (a product and its price, a whole inventory document) that
must travel in one HTTP batch because later ones refer to earlier ones by `$result[...]`. After
each batch the caller's `after_batch` persists what was written, so a run stopped anywhere resumes
without repeating or duplicating work.

With `in_flight > 1` independent batches overlap: a portal answers a batch of 50 writes in
seconds, far longer than the 0.5 s the request bucket allows between requests, so one batch at a
time would leave the bucket idle. The rate limiter still spaces the requests; results are applied
and recorded in this thread, in the order the batches were sent, so the manifests never record a
later batch before an earlier one. Units of different batches must not refer to each other.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bridge.b24.batching import MAX_BATCH
from bridge.b24.client import B24Client
from bridge.b24.errors import B24Error
from bridge.b24.models import BatchResult, Command
from bridge.catalog.progress import Progress
from bridge.observability import logger

type Done = Callable[[Mapping[str, Any], Mapping[str, B24Error]], bool]


@dataclass(frozen=True, slots=True)
class Unit:
    commands: tuple[tuple[str, Command], ...]
    # Called with this unit's results and errors; returns whether the unit succeeded.
    done: Done


@dataclass(slots=True)
class Outcome:
    ok: int = 0
    failed: int = 0
    stopped: bool = False  # the deadline came before every unit was sent


def run_units(
    b24: B24Client,
    units: Iterable[Unit],
    *,
    after_batch: Callable[[], None],
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    in_flight: int = 1,
) -> Outcome:
    outcome = Outcome()
    pending: list[Unit] = []
    size = 0
    sent: deque[tuple[list[Unit], Future[BatchResult]]] = deque()
    pool = (
        ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="b24-batch") if in_flight > 1 else None
    )

    def settle(group: list[Unit], answer: BatchResult) -> None:
        for unit in group:
            keys = [key for key, _ in unit.commands]
            results = {key: answer.result[key] for key in keys if key in answer.result}
            errors = {key: answer.errors[key] for key in keys if key in answer.errors}
            if unit.done(results, errors):
                outcome.ok += 1
            else:
                outcome.failed += 1
                for key, error in errors.items():
                    logger.warning(f"Bitrix24 command {key} failed: {error}", extra={"command": key})
        after_batch()
        if progress is not None:
            progress.advance(len(group))

    def drain(keep: int) -> None:
        while len(sent) > keep:
            group, future = sent.popleft()
            settle(group, future.result())

    def flush() -> None:
        nonlocal pending, size
        if not pending:
            return
        group, pending, size = pending, [], 0
        commands = {key: command for unit in group for key, command in unit.commands}
        if pool is None:
            settle(group, b24.batch(commands))
            return
        sent.append((group, pool.submit(b24.batch, commands)))
        drain(in_flight - 1)

    try:
        for unit in units:
            if len(unit.commands) > MAX_BATCH:
                raise ValueError(f"a unit of {len(unit.commands)} commands cannot travel in one batch")
            if size + len(unit.commands) > MAX_BATCH:
                flush()
                if should_stop():
                    drain(0)
                    outcome.stopped = True
                    return outcome
            pending.append(unit)
            size += len(unit.commands)
        flush()
        drain(0)
    finally:
        if pool is not None:
            # An error in one batch: the others already sent still finish and are recorded.
            for group, future in sent:
                if future.exception() is None:
                    settle(group, future.result())
            sent.clear()
            pool.shutdown(wait=True)
    return outcome
