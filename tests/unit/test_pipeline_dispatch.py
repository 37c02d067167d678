"""The event → flow registry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.domain.events import Entity, QueuedEvent
from bridge.pipeline.dispatch import Registry


def _queued(event: str = "ONCRMDEALADD") -> QueuedEvent:
    return QueuedEvent(event=event, entity=Entity.DEAL, id=7405, ts=1766047124, received_at=datetime.now(UTC))


def test_registered_flow_runs_and_its_note_becomes_the_outcome() -> None:
    registry = Registry()
    seen: list[QueuedEvent] = []

    def deal_flow(queued: QueuedEvent) -> str:
        seen.append(queued)
        return "order 00-000042 created"

    registry.register(["ONCRMDEALADD", "oncrmdealupdate"], deal_flow)

    outcome = registry.dispatch(_queued("ONCRMDEALUPDATE"))
    assert (outcome.status, outcome.detail, outcome.id) == ("done", "order 00-000042 created", 7405)
    assert [q.event for q in seen] == ["ONCRMDEALUPDATE"]
    assert registry.events() == {"ONCRMDEALADD", "ONCRMDEALUPDATE"}


def test_unregistered_event_is_ignored_not_an_error() -> None:
    outcome = Registry().dispatch(_queued("ONCRMDEALDELETE"))
    assert outcome.status == "ignored"
    assert "no flow" in outcome.detail


def test_an_event_cannot_have_two_flows() -> None:
    registry = Registry()
    registry.register(["ONCRMDEALADD"], lambda queued: None)
    with pytest.raises(ValueError, match="ONCRMDEALADD is already handled"):
        registry.register(["ONCRMDEALUPDATE", "ONCRMDEALADD"], lambda queued: "other")
    assert registry.handler_for("ONCRMDEALUPDATE") is None  # nothing half-registered


def test_registering_the_same_flow_again_is_harmless() -> None:
    registry = Registry()

    def flow(queued: QueuedEvent) -> None:
        return None

    registry.register(["ONCRMDEALADD"], flow)
    registry.register(["ONCRMDEALADD"], flow)
    assert registry.dispatch(_queued()).status == "done"
