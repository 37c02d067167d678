"""Outbound events over real HTTP: payload shape vs the documented samples, which events fire,
delivery after the response, no retries, pause/resume/drop, offline queue."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bridge.b24.php_query import decode
from sandbox.serve import RunningServer, serve_in_thread
from sandbox.world.rest import B24Rest
from tests.harness.b24 import shape_mismatches

pytestmark = pytest.mark.contract
FIXTURES = Path(__file__).parents[1] / "fixtures" / "b24"


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.content_types: list[str] = []
        self.status = 200
        self.lock = threading.Lock()

    async def handle(self, request: Request) -> Response:
        body = (await request.body()).decode()
        with self.lock:
            self.raw.append(body)
            self.bodies.append(decode(body))
            self.content_types.append(request.headers.get("content-type", ""))
        return PlainTextResponse("ok", status_code=self.status)

    def events(self) -> list[str]:
        with self.lock:
            return [b["event"] for b in self.bodies]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, RunningServer]]:
    target = Receiver()
    server = serve_in_thread(Starlette(routes=[Route("/hook", target.handle, methods=["POST"])]))
    yield target, server
    server.stop()


def hook(rest: B24Rest, url: str, events: list[str], token: str = "tok-123") -> None:
    rest.client.post(
        "/_sandbox/outgoing-webhook", json={"handler": url, "events": events, "application_token": token}
    )


def deliveries(rest: B24Rest) -> list[dict[str, Any]]:
    return list(rest.client.get("/_sandbox/events?wait=1").json()["deliveries"])


def test_outgoing_webhook_payload_matches_sample(
    rest: B24Rest, receiver: tuple[Receiver, RunningServer]
) -> None:
    target, server = receiver
    hook(rest, f"{server.url}/hook", ["ONCRMDEALADD"])
    deal_id = rest.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    deliveries(rest)
    assert target.content_types == ["application/x-www-form-urlencoded"]
    body = target.bodies[0]
    expected = json.loads((FIXTURES / "event.ONCRMDEALADD.outgoing-webhook.json").read_text())
    assert not list(shape_mismatches(expected, body))
    assert set(body["auth"]) == set(expected["auth"])
    expected_form = decode((FIXTURES / "event.ONCRMDEALADD.outgoing-webhook.form.txt").read_text().strip())
    assert set(body) == set(expected_form)
    assert set(body["auth"]) == set(expected_form["auth"])
    assert body["data"]["FIELDS"] == {"ID": str(deal_id)}
    assert body["auth"]["application_token"] == "tok-123"
    assert "access_token" not in body["auth"]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("event.*.app.json")))
def test_bound_handler_payload_matches_app_sample(
    rest: B24Rest, receiver: tuple[Receiver, RunningServer], name: str
) -> None:
    """Every app sample's common keys; OAuth keys (access_token, …) are absent: the sandbox has no apps."""
    target, server = receiver
    expected = json.loads((FIXTURES / name).read_text())
    event = expected["event"].upper()
    rest.call("event.bind", {"event": event, "handler": f"{server.url}/hook"})
    if event.startswith("CATALOG.PRODUCT"):
        product = rest.call("catalog.product.add", {"fields": {"iblockId": 23, "name": "P"}})["element"]["id"]
        if event.endswith("UPDATE"):
            rest.call("catalog.product.update", {"id": product, "fields": {"name": "Q"}})
        if event.endswith("DELETE"):
            rest.call("catalog.product.delete", {"id": product})
    elif event == "ONCRMDEALMOVETOCATEGORY":
        deal = rest.call("crm.deal.add", {"fields": {"TITLE": "m"}})
        rest.call("crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"categoryId": 1}})
    elif event.startswith("ONCRMREQUISITE"):
        company = rest.call("crm.company.add", {"fields": {"TITLE": "c"}})
        req = rest.call(
            "crm.requisite.add",
            {"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company, "PRESET_ID": 1, "NAME": "r"}},
        )
        rest.call("crm.requisite.update", {"id": req, "fields": {"RQ_INN": "7700000000"}})
    else:
        kind = next(k for k in ("DEAL", "COMPANY", "CONTACT") if event.startswith(f"ONCRM{k}"))
        entity = kind.lower()
        new_id = rest.call(f"crm.{entity}.add", {"fields": {"TITLE": "t", "NAME": "n"}})
        if event.endswith("UPDATE"):
            rest.call(f"crm.{entity}.update", {"id": new_id, "fields": {"COMMENTS": "c"}})
        if event.endswith("DELETE"):
            rest.call(f"crm.{entity}.delete", {"id": new_id})
    deliveries(rest)
    assert target.events() == [event]
    body = target.bodies[0]
    # Form values are all text, whatever JSON type the sample shows.
    common = _as_text({k: v for k, v in expected.items() if k != "auth"})
    assert not list(shape_mismatches(common, body))
    expected_auth = {
        k
        for k in expected["auth"]
        if k not in ("access_token", "expires_in", "scope", "status", "refresh_token")
    }
    assert set(body["auth"]) == expected_auth


def _as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    return str(value)


def test_form_sample_round_trips(rest: B24Rest, receiver: tuple[Receiver, RunningServer]) -> None:
    target, server = receiver
    rest.call("event.bind", {"event": "ONCRMDEALUPDATE", "handler": f"{server.url}/hook"})
    deal = rest.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    rest.call("crm.deal.update", {"id": deal, "fields": {"TITLE": "y"}})
    deliveries(rest)
    sample_form = decode((FIXTURES / "event.ONCRMDEALUPDATE.app.form.txt").read_text().strip())
    assert set(target.bodies[0]) == set(sample_form)
    assert target.raw[0].startswith("event=ONCRMDEALUPDATE&event_handler_id=")
    # Spelled as the sample is, by PHP's http_build_query: brackets percent-encoded.
    assert f"&data%5BFIELDS%5D%5BID%5D={deal}&" in target.raw[0]
    assert "[" not in target.raw[0]


def test_move_between_funnels_fires_only_move_event(
    rest: B24Rest, receiver: tuple[Receiver, RunningServer]
) -> None:
    target, server = receiver
    hook(rest, f"{server.url}/hook", ["ONCRMDEALUPDATE", "ONCRMDEALMOVETOCATEGORY"])
    deal = rest.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    rest.call("crm.deal.update", {"id": deal, "fields": {"CATEGORY_ID": 1}})  # immutable: ignored
    assert rest.call("crm.deal.get", {"id": deal})["CATEGORY_ID"] == "0"
    item = rest.call("crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"categoryId": 1}})["item"]
    assert item["categoryId"] == 1
    assert item["stageId"] == "C1:NEW"
    deliveries(rest)
    assert target.events() == ["ONCRMDEALUPDATE", "ONCRMDEALMOVETOCATEGORY"]
    assert target.bodies[1]["data"]["FIELDS"] == {"ID": str(deal), "CATEGORY_ID": "1", "STAGE_ID": "C1:NEW"}


def test_failed_delivery_is_recorded_and_never_retried(
    rest: B24Rest, receiver: tuple[Receiver, RunningServer]
) -> None:
    target, server = receiver
    target.status = 500
    hook(rest, f"{server.url}/hook", ["ONCRMCOMPANYADD"])
    hook(rest, "http://127.0.0.1:9/unreachable", ["ONCRMCOMPANYADD"])
    rest.call("crm.company.add", {"fields": {"TITLE": "c"}})
    records = deliveries(rest)
    assert len(target.bodies) == 1
    assert sorted((r["status"], str(r["status_code"])) for r in records) == [
        ("failed", "500"),
        ("failed", "None"),
    ]
    assert any(r["error"] for r in records)


def test_paused_delivery_holds_or_drops(rest: B24Rest, receiver: tuple[Receiver, RunningServer]) -> None:
    target, server = receiver
    hook(rest, f"{server.url}/hook", ["ONCRMCONTACTADD"])
    rest.client.post("/_sandbox/events/pause", json={})
    rest.call("crm.contact.add", {"fields": {"NAME": "held"}})
    assert [d["status"] for d in deliveries(rest)] == ["held"]
    assert target.bodies == []
    rest.client.post("/_sandbox/events/resume")
    assert [d["status"] for d in deliveries(rest)] == ["delivered"]
    rest.client.post("/_sandbox/events/pause", json={"drop": True})
    rest.call("crm.contact.add", {"fields": {"NAME": "lost"}})
    rest.client.post("/_sandbox/events/resume")
    assert [d["status"] for d in deliveries(rest)] == ["delivered", "dropped"]
    assert len(target.bodies) == 1


def test_failed_call_emits_nothing_and_offline_queue_collects(rest: B24Rest) -> None:
    rest.call("event.bind", {"event": "ONCRMDEALADD", "event_type": "offline"})
    rest.send("crm.deal.add", {"fields": {"TITLE": "x", "CATEGORY_ID": 77}})  # unknown funnel → error
    rest.call("crm.deal.add", {"fields": {"TITLE": "y"}})
    first = rest.call("event.offline.get", {})
    assert [e["EVENT_NAME"] for e in first["events"]] == ["ONCRMDEALADD"]
    assert first["events"][0]["EVENT_DATA"] == {"FIELDS": {"ID": "1"}}
    assert rest.call("event.offline.get", {})["events"] == []
