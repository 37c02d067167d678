"""Packing units of work into `batch` calls of at most 50 commands, and recording after each.

A unit is the commands of one object (a product and its price, a whole inventory document) that
must travel in one HTTP batch because later ones refer to earlier ones by `$result[...]`. After
each batch the caller's `after_batch` persists what was written, so a run stopped anywhere resumes
without repeating or duplicating work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.b24.batching import MAX_BATCH
from bridge.b24.client import B24Client
from bridge.b24.errors import B24Error
from bridge.b24.models import Command
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
) -> Outcome:
    outcome = Outcome()
    pending: list[Unit] = []
    size = 0

    def flush() -> None:
        nonlocal pending, size
        if not pending:
            return
        commands = {key: command for unit in pending for key, command in unit.commands}
        answer = b24.batch(commands)
        for unit in pending:
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
            progress.advance(len(pending))
        pending, size = [], 0

    for unit in units:
        if len(unit.commands) > MAX_BATCH:
            raise ValueError(f"a unit of {len(unit.commands)} commands cannot travel in one batch")
        if size + len(unit.commands) > MAX_BATCH:
            flush()
            if should_stop():
                outcome.stopped = True
                return outcome
        pending.append(unit)
        size += len(unit.commands)
    flush()
    return outcome
