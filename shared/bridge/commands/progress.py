"""A progress bar with count, rate and ETA on stderr for the long commands.

`rich` is a dev/CLI dependency (requirements/dev.in), not in the Lambda layer's requirements: the
layer carries `bridge.cli` but no function runs it, and the layer must not grow. Without rich (or
with `--json`, or when stderr is not a terminal) the same figures go out as plain lines every few
seconds, so a pipeline log still shows them.
"""

from __future__ import annotations

import re
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
type Sink = Callable[[str], None]

# A progress line of the catalog flow (`bridge.catalog.progress.Progress.line`), e.g.
# "catalog products: 120/5000 (3.1/s, ETA 1574 s)".
_LINE = re.compile(r"(?P<label>[^:]+): (?P<done>\d+)/(?P<total>\d+) \(.*\)")

_EVERY_S = 5.0


def line(label: str, done: int, total: int, elapsed_s: float) -> str:
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    eta = f"{(total - done) / rate:.0f} s" if rate > 0 and total >= done else "?"
    return f"{label}: {done}/{total} ({rate:.1f}/s, ETA {eta})"


@contextmanager
def progress(label: str, *, plain: bool = False) -> Iterator[Tick]:
    """A `tick(done, total)` to call after each item; a bar while it runs (plain lines when
    `plain`, without rich, or off a terminal)."""
    if not _interactive(plain):
        yield _plain(label)
        return
    with Progress(*_columns(), console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


def _interactive(plain: bool) -> bool:
    return not plain and Progress is not None and sys.stderr.isatty()


@contextmanager
def progress_lines(*, plain: bool = False) -> Iterator[Sink]:
    """A sink for a flow that reports its progress as text lines (the catalog flow): each
    progress line moves a bar of its own label, any other line is printed above the bars. Plain
    (as `progress`): every line goes to stderr as it comes."""
    if not _interactive(plain):
        yield say
        return
    console = Console(stderr=True)
    with Progress(*_columns(), console=console, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def sink(text: str) -> None:
            found = _LINE.fullmatch(text)
            if found is None:
                bar.console.print(text, markup=False, highlight=False)
                return
            label = found["label"]
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=None)
            bar.update(tasks[label], completed=int(found["done"]), total=int(found["total"]))

        yield sink


def _columns() -> list[Any]:
    return [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]


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
