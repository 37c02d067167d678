"""A progress bar with count, rate and ETA on stderr for the long commands.

`rich` is a dev/CLI dependency (requirements/dev.in), not in the Lambda layer's requirements: the
layer carries `bridge.cli` but no function runs it, and the layer must not grow. Without rich (or
with `--json`, or when stderr is not a terminal) the same figures go out as plain lines every few
seconds, so a pipeline log still shows them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bridge.commands.output import say

try:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text
except ImportError:  # the layer without the dev dependencies: plain lines
    Progress = None  # type: ignore[assignment,misc]

type Tick = Callable[[int, int], None]  # (done, total)

_EVERY_S = 5.0


def line(label: str, done: int, total: int, elapsed_s: float) -> str:
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    eta = f"{(total - done) / rate:.0f} s" if rate > 0 and total >= done else "?"
    return f"{label}: {done}/{total} ({rate:.1f}/s, ETA {eta})"


@contextmanager
def progress(label: str, *, plain: bool = False) -> Iterator[Tick]:
    """A `tick(done, total)` to call after each item; a bar while it runs (plain lines when
    `plain`, without rich, or off a terminal)."""
    if plain or Progress is None or not sys.stderr.isatty():
        yield _plain(label)
        return
    columns: list[Any] = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


def _plain(label: str) -> Tick:
    started = time.monotonic()
    last = [started]

    def tick(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= _EVERY_S or done >= total:
            last[0] = now
            say(line(label, done, total, now - started))

    return tick


if Progress is not None:

    class _Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed or 0:.1f}/s")
