"""template.yaml keeps the public receiver from starving the rest of the account (issue 11)."""

from __future__ import annotations

from typing import Any

from sandbox.template import load_template


def _properties(logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = load_template()["Resources"][logical_id]["Properties"]
    return properties


def test_the_receiver_has_reserved_concurrency() -> None:
    reserved = _properties("B24EventsReceiverFunction").get("ReservedConcurrentExecutions")
    # Reserved: a flood of the public URL neither takes the worker's concurrency nor loses the
    # receiver its own; small: it only parses and enqueues (~1 ms of CPU per refused request).
    assert isinstance(reserved, int)
    assert 1 < reserved <= 20
