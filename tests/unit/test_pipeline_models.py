"""Boundary models of the event pipeline, against the documented Bitrix24 event samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from bridge.b24 import php_query
from bridge.domain.events import Entity, QueuedEvent
from bridge.pipeline.models import B24Event, deduplication_id, entity_for_event

B24_FIXTURES = Path(__file__).parent.parent / "fixtures" / "b24"


def _sample(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((B24_FIXTURES / name).read_text("utf-8"))
    return data


@pytest.mark.parametrize(
    ("event", "entity"),
    [
        ("ONCRMDEALADD", Entity.DEAL),
        ("ONCRMDEALUPDATE", Entity.DEAL),
        ("ONCRMDEALDELETE", Entity.DEAL),
        ("ONCRMDEALMOVETOCATEGORY", Entity.DEAL),
        ("ONCRMCOMPANYADD", Entity.COMPANY),
        ("ONCRMCONTACTUPDATE", Entity.CONTACT),
        ("ONCRMREQUISITEUPDATE", Entity.REQUISITE),
        ("onCrmRequisiteUpdate", Entity.REQUISITE),
        ("CATALOG.PRODUCT.ON.ADD", Entity.PRODUCT),
        ("CATALOG.PRODUCT.ON.DELETE", Entity.PRODUCT),
        ("ONCRMPRODUCTUPDATE", Entity.PRODUCT),
    ],
)
def test_entity_follows_the_event_name(event: str, entity: Entity) -> None:
    assert entity_for_event(event) is entity


@pytest.mark.parametrize(
    "event",
    [
        "ONCRMLEADADD",
        "ONCRMDEALUSERFIELDADD",
        "ONCRMCOMPANYUSERFIELDUPDATE",
        "ONAPPTEST",
        "ONCRMADDRESSREGISTER",
        "",
    ],
)
def test_events_without_an_entity_are_not_mapped(event: str) -> None:
    assert entity_for_event(event) is None


def test_outgoing_webhook_form_body_parses_like_its_json_twin() -> None:
    form = (B24_FIXTURES / "event.ONCRMDEALADD.outgoing-webhook.form.txt").read_text("utf-8").strip()
    from_form = B24Event.model_validate(php_query.decode(form))
    from_json = B24Event.model_validate(_sample("event.ONCRMDEALADD.outgoing-webhook.json"))

    assert from_form == from_json
    assert (from_form.event, from_form.entity_id, from_form.ts) == ("ONCRMDEALADD", 7405, 1766047124)
    assert from_form.event_handler_id == "975"
    assert from_form.auth.application_token.get_secret_value() == "jvh9y1ulvt2m6k5or90v9mg8nn32ozas"


def test_numbers_sent_as_json_numbers_are_accepted() -> None:
    event = B24Event.model_validate(_sample("event.CATALOG.PRODUCT.ON.UPDATE.app.json"))
    assert (event.entity_id, event.event_handler_id) == (1, "1")


def test_camel_case_event_codes_are_upper_cased() -> None:
    assert (
        B24Event.model_validate(_sample("event.ONCRMREQUISITEUPDATE.app.json")).event
        == "ONCRMREQUISITEUPDATE"
    )


@pytest.mark.parametrize("bad_id", ["abc", "-5", "7.5", "", "０１", True, 0])
def test_entity_id_must_be_a_positive_integer(bad_id: object) -> None:
    raw = _sample("event.ONCRMDEALADD.outgoing-webhook.json")
    raw["data"] = {"FIELDS": {"ID": bad_id}}
    with pytest.raises(ValidationError):
        B24Event.model_validate(raw)


def test_token_is_hidden_from_repr() -> None:
    event = B24Event.model_validate(_sample("event.ONCRMDEALADD.outgoing-webhook.json"))
    assert "jvh9y1ulvt2m6k5or90v9mg8nn32ozas" not in repr(event)


def test_queued_event_round_trips_as_json() -> None:
    event = B24Event.model_validate(_sample("event.ONCRMCOMPANYADD.app.json"))
    queued = QueuedEvent.from_b24(event, Entity.COMPANY, received_at=datetime(2025, 3, 28, tzinfo=UTC))

    assert json.loads(queued.model_dump_json()) == {
        "event": "ONCRMCOMPANYADD",
        "entity": "COMPANY",
        "id": 2917,
        "ts": 1743165480,
        "received_at": "2025-03-28T00:00:00Z",
    }
    assert QueuedEvent.model_validate_json(queued.model_dump_json()) == queued
    assert queued.group_id == "COMPANY-2917"


def test_deduplication_id_is_stable_per_delivery_and_tells_deliveries_apart() -> None:
    raw = _sample("event.ONCRMDEALADD.outgoing-webhook.json")
    received = datetime(2025, 3, 28, 10, 0, 0, 123456, tzinfo=UTC)

    def queued(data: dict[str, object], at: datetime = received) -> QueuedEvent:
        return QueuedEvent.from_b24(B24Event.model_validate(data), Entity.DEAL, received_at=at)

    first = deduplication_id(queued(raw))
    assert first == deduplication_id(queued(raw))  # an SDK retry of the same SendMessage
    assert len(first) <= 128
    for key, value in (("ts", "1766047125"), ("event", "ONCRMDEALUPDATE")):
        assert deduplication_id(queued({**raw, key: value})) != first
    other_deal = {**raw, "data": {"FIELDS": {"ID": "7406"}}}
    assert deduplication_id(queued(other_deal)) != first
    same_second_later = received.replace(microsecond=900000)
    assert deduplication_id(queued(raw, same_second_later)) != first
