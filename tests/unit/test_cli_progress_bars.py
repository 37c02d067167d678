"""The long commands' progress on stderr: a rich bar (count, rate, ETA) on a terminal, plain
lines off a terminal or with `--json` (a pipeline log still shows them)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bridge.commands.progress import progress, progress_lines


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """stderr is a terminal (swapped in the test's own phase: pytest re-installs its capture
    between setup and call)."""
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("TERM", raising=False)
    return Terminal()


@contextmanager
def on(screen: Terminal) -> Iterator[None]:
    saved, sys.stderr = sys.stderr, screen
    try:
        yield
    finally:
        sys.stderr = saved


def test_off_a_terminal_the_catalog_lines_pass_as_they_come(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_lines() as sink:
        sink("catalog products: 5/10 (2.5/s, ETA 2 s)")
        sink("would create 3 sections")
    assert capsys.readouterr().err.splitlines() == [
        "catalog products: 5/10 (2.5/s, ETA 2 s)",
        "would create 3 sections",
    ]


def test_off_a_terminal_a_tick_ends_with_its_plain_line(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("link-existing: open deals") as tick:
        tick(0, 3)
        tick(3, 3)
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("link-existing: open deals: 3/3 (")
    assert "ETA" in last


def test_json_keeps_plain_lines_even_on_a_terminal(terminal: Terminal) -> None:
    with on(terminal), progress_lines(plain=True) as sink:
        sink("catalog stock: 1/1 (1.0/s, ETA 0 s)")
    assert terminal.getvalue() == "catalog stock: 1/1 (1.0/s, ETA 0 s)\n"


def test_on_a_terminal_each_stage_gets_a_bar_and_other_lines_print_above(terminal: Terminal) -> None:
    with on(terminal), progress_lines() as sink:
        sink("catalog products: 4/10 (2.0/s, ETA 3 s)")
        sink("created 2 sections")
        sink("catalog products: 10/10 (2.0/s, ETA 0 s)")
    screen = terminal.getvalue()
    assert "created 2 sections" in screen
    assert "catalog products" in screen
    assert "10/10" in screen  # the bar's count column, as rich draws it
    assert "catalog products: 10/10 (" not in screen  # the line itself became the bar


def test_on_a_terminal_a_tick_moves_a_bar(terminal: Terminal) -> None:
    with on(terminal), progress("link-existing: open deals") as tick:
        tick(0, 4)
        tick(4, 4)
    screen = terminal.getvalue()
    assert "link-existing: open deals" in screen
    assert "4/4" in screen
    assert "/s" in screen  # the rate column
