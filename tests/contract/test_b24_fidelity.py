"""The Bitrix24 emulator against ../shared/reference/fidelity-notes.md (issue 10 item 14), and the
bridge's reading of what it answers."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.b24.models import yes_no
from sandbox.b24 import B24EmulatorConfig
from sandbox.world.rest import B24Rest

pytestmark = pytest.mark.contract


def test_document_mode_status_answers_the_string_y_or_n(rest: B24Rest) -> None:
    # §4: {"result":"Y"} in the docs' sample; "boolean" there means "Y"/"N".
    off = rest.call("catalog.document.mode.status")
    rest.client.post("/_sandbox/inventory", json={"enabled": True}).raise_for_status()
    on = rest.call("catalog.document.mode.status")

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


def test_operating_time_limit_answers_429_with_the_documented_body_and_no_retry_after() -> None:
    # §8: the next call after the budget is spent gets 429; the text is the RU docs' row; the
    # platform sets no Retry-After (the client waits for time.operating_reset_at instead).
    rest = B24Rest.in_process(
        B24EmulatorConfig(operating_limit_enabled=True, method_costs={"crm.deal.list": 500.0})
    )
    try:
        first = rest.client.post(f"{rest.base}/crm.deal.list", json={})
        second = rest.client.post(f"{rest.base}/crm.deal.list", json={})
    finally:
        rest.close()

    assert first.status_code == 200
    assert first.json()["time"]["operating_reset_at"] > first.json()["time"]["start"]
    assert second.status_code == 429
    assert second.json() == {
        "error": "OPERATION_TIME_LIMIT",
        "error_description": "Method is blocked due to operation time limit",
    }
    assert "retry-after" not in second.headers
