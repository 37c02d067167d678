"""The emulator's deal card and its placement frame: what a browser submits when a user opens the
«1С» tab is the documented placement request (docs/sandbox-b24.md "Local application and placements";
widgets/_includes/widget_data.md, widgets/crm/detail-tab.md), with a live token of that user."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bridge.b24.php_query import decode
from sandbox.b24 import B24EmulatorConfig
from sandbox.b24.app import create_app
from sandbox.b24.card import FRAME_FORM_ID
from sandbox.serve import serve_in_thread
from tests.harness.b24 import FRAME_BODY_KEYS, FRAME_QUERY_KEYS

pytestmark = pytest.mark.contract

CONFIG = B24EmulatorConfig()


class Page(HTMLParser):
    """The few things of a page these tests look at: iframes, forms and their inputs, text by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.frames: list[dict[str, str]] = []
        self.forms: list[dict[str, Any]] = []
        self.tabs: list[str] = []
        self._in_button = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "iframe":
            self.frames.append(values)
        elif tag == "form":
            self.forms.append({"attrs": values, "fields": {}})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][values.get("name", "")] = values.get("value", "")
        elif tag == "button" and "data-placement" in values:
            self._in_button = True
            self.tabs.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button:
            self.tabs[-1] += data


class TabApp:
    """A stand-in application: records each request its tab handler receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = ""

    async def tab(self, request: Request) -> Response:
        raw = (await request.body()).decode()
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        self.received.append({"query": query, "form": decode(raw)})
        return HTMLResponse("<p>tab</p>")


@pytest.fixture
def world() -> Iterator[tuple[httpx.Client, TabApp, dict[str, Any]]]:
    portal = serve_in_thread(create_app(B24EmulatorConfig()))
    tab = TabApp()
    handler = serve_in_thread(Starlette(routes=[Route("/tab", tab.tab, methods=["POST"])]))
    tab.url = handler.url
    client = httpx.Client(base_url=portal.url, timeout=30)
    app = client.post("/_sandbox/apps", json={"handler": f"{handler.url}/install"}).json()
    client.post(f"/_sandbox/apps/{app['id']}/install-finish")
    admin = client.post(f"/_sandbox/apps/{app['id']}/tokens", json={"user_id": 1}).json()["access_token"]
    bound = client.post(
        "/rest/placement.bind",
        json={
            "auth": admin,
            "PLACEMENT": "CRM_DEAL_DETAIL_TAB",
            "HANDLER": f"{handler.url}/tab",
            "TITLE": "1С",
        },
    ).json()
    assert bound == {"result": True} or bound.get("result") is True, bound
    yield client, tab, app
    client.close()
    handler.stop()
    portal.stop()


def new_deal(client: httpx.Client, **fields: Any) -> int:
    url = f"/rest/{CONFIG.webhook_user_id}/{CONFIG.webhook_code}/crm.deal.add"
    body = client.post(url, json={"fields": {"TITLE": "Заказ болтов", **fields}}).json()
    return int(body["result"])


def frame_form(client: httpx.Client, deal_id: int, user_id: int) -> tuple[str, dict[str, str]]:
    card = client.get(f"/crm/deal/details/{deal_id}/", params={"user": user_id})
    assert card.status_code == 200, card.text
    page = Page(card.text)
    assert page.tabs == ["1С"]
    (frame,) = page.frames
    response = client.get(frame["data-src"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    (form,) = Page(response.text).forms
    assert form["attrs"]["id"] == FRAME_FORM_ID
    assert form["attrs"]["method"] == "post"
    assert f"getElementById('{FRAME_FORM_ID}').submit()" in response.text
    return form["attrs"]["action"], form["fields"]


def test_the_tab_frame_submits_the_documented_placement_request(
    world: tuple[httpx.Client, TabApp, dict[str, Any]],
) -> None:
    client, tab, app = world
    deal_id = new_deal(client)
    action, fields = frame_form(client, deal_id, user_id=2)
    target = urlsplit(action)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{tab.url}/tab"
    query = dict(parse_qsl(target.query))
    assert set(query) == FRAME_QUERY_KEYS
    assert (query["DOMAIN"], query["PROTOCOL"], query["LANG"]) == (CONFIG.domain, "1", "ru")
    assert set(fields) == FRAME_BODY_KEYS
    assert fields["PLACEMENT"] == "CRM_DEAL_DETAIL_TAB"
    # detail-tab.md: a JSON *string* carrying the deal ID as a string.
    assert json.loads(fields["PLACEMENT_OPTIONS"]) == {"ID": str(deal_id)}
    assert (fields["member_id"], fields["status"]) == (CONFIG.member_id, "L")
    assert fields["APPLICATION_TOKEN"] == app["application_token"]
    # A fresh token of the signed-in user, good for the portal's REST.
    me = client.post("/rest/user.current", json={"auth": fields["AUTH_ID"]}).json()["result"]
    assert (str(me["ID"]), me["LAST_NAME"]) == ("2", "Иванова")
    # The same request the helper `placements/open` sends: same fields, same query keys.
    helper = client.post(
        f"/_sandbox/apps/{app['id']}/placements/open", json={"user_id": 2, "deal_id": deal_id}
    )
    sent = helper.json()["request"]
    assert set(sent["form"]) == set(fields)
    assert set(sent["query"]) == set(query)
    # What the browser submits reaches the handler as the portal's POST.
    tab.received.clear()
    assert httpx.post(action, data=fields).status_code == 200
    (received,) = tab.received
    assert received["form"] == fields
    assert received["query"] == query


def test_each_open_gets_its_own_token(world: tuple[httpx.Client, TabApp, dict[str, Any]]) -> None:
    client, _tab, _app = world
    deal_id = new_deal(client)
    first = frame_form(client, deal_id, user_id=2)[1]
    second = frame_form(client, deal_id, user_id=2)[1]
    assert first["AUTH_ID"] != second["AUTH_ID"]


def test_the_signed_in_user_is_remembered_by_cookie(
    world: tuple[httpx.Client, TabApp, dict[str, Any]],
) -> None:
    client, _tab, _app = world
    deal_id = new_deal(client)
    client.get(f"/crm/deal/details/{deal_id}/", params={"user": 3})
    card = client.get(f"/crm/deal/details/{deal_id}/")
    (frame,) = Page(card.text).frames
    fields = Page(client.get(frame["data-src"].replace("user=3", "user=")).text).forms[0]["fields"]
    me = client.post("/rest/user.current", json={"auth": fields["AUTH_ID"]}).json()["result"]
    assert str(me["ID"]) == "3"


def test_a_user_without_access_to_the_deal_gets_no_card_and_no_frame_request(
    world: tuple[httpx.Client, TabApp, dict[str, Any]],
) -> None:
    client, tab, app = world
    deal_id = new_deal(client, ASSIGNED_BY_ID=3)
    client.post("/_sandbox/deal-access", json={"user_id": 2, "deals": "own"})
    card = client.get(f"/crm/deal/details/{deal_id}/", params={"user": 2})
    assert card.status_code == 403
    assert Page(card.text).frames == []
    frame = client.get("/_sandbox/placement-frame", params={"app": app["id"], "deal": deal_id, "user": 2})
    assert frame.status_code == 403
    assert Page(frame.text).forms == []
    assert tab.received == []


def test_an_app_not_yet_installed_shows_no_tab(world: tuple[httpx.Client, TabApp, dict[str, Any]]) -> None:
    client, _tab, app = world
    deal_id = new_deal(client)
    client.post(f"/_sandbox/apps/{app['id']}/uninstall")
    card = client.get(f"/crm/deal/details/{deal_id}/", params={"user": 1})
    assert card.status_code == 200
    assert Page(card.text).tabs == []
    frame = client.get("/_sandbox/placement-frame", params={"app": app["id"], "deal": deal_id, "user": 1})
    assert frame.status_code == 409


def test_an_unknown_deal_or_user_is_refused_in_words(
    world: tuple[httpx.Client, TabApp, dict[str, Any]],
) -> None:
    client, _tab, _app = world
    missing = client.get("/crm/deal/details/999999/", params={"user": 1})
    assert missing.status_code == 404
    assert "не найдена" in missing.text
    nobody = client.get(f"/crm/deal/details/{new_deal(client)}/", params={"user": 4242})
    assert nobody.status_code == 401
    assert "Пользователь не найден" in nobody.text
