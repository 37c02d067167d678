"""The Bitrix24 emulator against ../shared/reference/fidelity-notes.md (issue 10 item 14), and the
bridge's reading of what it answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.b24.models import yes_no
from sandbox.b24.testing import Rest

pytestmark = pytest.mark.contract


@pytest.fixture
def rest() -> Iterator[Rest]:
    client = Rest()
    yield client
    client.close()


def test_document_mode_status_answers_the_string_y_or_n(rest: Rest) -> None:
    # §4: {"result":"Y"} in the docs' sample; "boolean" there means "Y"/"N".
    off = rest.ok("catalog.document.mode.status")
    rest.client.post("/_sandbox/inventory", json={"enabled": True}).raise_for_status()
    on = rest.ok("catalog.document.mode.status")

    assert (off, on) == ("N", "Y")
    assert (yes_no(off), yes_no(on)) == (False, True)


@pytest.mark.parametrize(
    ("answer", "meaning"),
    [
        ("Y", True),
        ("N", False),
        ("y", True),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("", False),
    ],
)
def test_yes_no_reads_the_documented_string_and_a_json_boolean(answer: Any, meaning: bool) -> None:
    assert yes_no(answer) is meaning


@pytest.mark.parametrize("answer", [None, "maybe", {"mode": "Y"}, ["Y"]])
def test_yes_no_does_not_guess_at_anything_else(answer: Any) -> None:
    assert yes_no(answer) is None
