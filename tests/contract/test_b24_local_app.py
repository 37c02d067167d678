"""A local application against the emulator, over real HTTP both ways: install request, placement
binding, the deal-tab request, per-token REST calls and their refusals, per-user deal access.

Payload shapes are the documented ones (docs/sandbox-b24.md "Local application and placements")."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from bridge.b24.php_query import decode
from sandbox.b24 import B24EmulatorConfig
from sandbox.b24.app import create_app
from sandbox.serve import RunningServer, serve_in_thread
from tests.harness.b24 import FRAME_BODY_KEYS, FRAME_QUERY_KEYS, shape_mismatches

pytestmark = pytest.mark.contract

CONFIG = B24EmulatorConfig()
# placement.get sample row (widgets/placement-get.md); `langAll` is keyed by the portal's
# language, `de` in the docs' portal, `ru` in ours.
PLACEMENT_GET_ROW = {
    "placement": "CRM_DEAL_LIST_TOOLBAR",
    "userId": 0,
    "handler": "https://myapp.com/?handler=1",
    "options": [],
    "title": "Add invoice",
    "description": "",
    "langAll": {"ru": {"TITLE": "Add invoice", "DESCRIPTION": "", "GROUP_NAME": "Documents"}},
}
# app.info sample (common/system/app-info.md).
APP_INFO = {
    "ID": 5,
    "CODE": "telefum24.kp10",
    "VERSION": 4,
    "STATUS": "F",
    "INSTALLED": True,
    "PAYMENT_EXPIRED": "N",
    "DAYS": None,
    "LANGUAGE_ID": "de",
    "LICENSE": "de_ent10000",
    "LICENSE_TYPE": "ent10000",
    "LICENSE_FAMILY": "ent",
}


class Application:
    """A tiny local application: its install page binds the deal tab with the AUTH_ID it was given;
    its tab asks the portal who the user is and reads the deal with the same token."""

    def __init__(self) -> None:
        self.portal_url = ""
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.bind_answer: dict[str, Any] = {}

    async def _record(self, request: Request) -> tuple[dict[str, str], dict[str, Any], str]:
        raw = (await request.body()).decode()
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        with self.lock:
            self.requests.append({"path": request.url.path, "query": query, "raw": raw, "form": decode(raw)})
        return query, decode(raw), raw

    async def rest(self, method: str, token: str, params: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{self.portal_url}/rest/{method}.json", json={"auth": token, **(params or {})}
            )
        return response.json()

    async def install(self, request: Request) -> Response:
        _query, form, _raw = await self._record(request)
        token = form["auth"]["access_token"] if form.get("event") == "ONAPPINSTALL" else form["AUTH_ID"]
        self.bind_answer = await self.rest(
            "placement.bind",
            token,
            {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": f"{self.own_url}/tab", "TITLE": "1С"},
        )
        return HTMLResponse("<script>BX24.installFinish();</script>")

    async def tab(self, request: Request) -> Response:
        _query, form, _raw = await self._record(request)
        me = await self.rest("user.current", form["AUTH_ID"])
        deal_id = json.loads(form["PLACEMENT_OPTIONS"])["ID"]
        deal = await self.rest("crm.deal.get", form["AUTH_ID"], {"id": deal_id})
        if "error" in deal:
            return PlainTextResponse(f"refused: {deal['error_description']}", status_code=403)
        return HTMLResponse(f"<h1>{deal['result']['TITLE']}</h1><p>{me['result']['LAST_NAME']}</p>")

    own_url = ""


@pytest.fixture
def stack() -> Iterator[tuple[httpx.Client, Application]]:
    portal = serve_in_thread(create_app(B24EmulatorConfig()))
    application = Application()
    handler: RunningServer = serve_in_thread(
        Starlette(
            routes=[
                Route("/install", application.install, methods=["POST"]),
                Route("/tab", application.tab, methods=["POST"]),
            ]
        )
    )
    application.portal_url = portal.url
    application.own_url = handler.url
    client = httpx.Client(base_url=portal.url, timeout=30)
    yield client, application
    client.close()
    handler.stop()
    portal.stop()


def register(client: httpx.Client, application: Application, **extra: Any) -> dict[str, Any]:
    body = {"handler": f"{application.own_url}/install", "scope": ["crm", "placement", "user_brief"]}
    response = client.post("/_sandbox/apps", json=body | extra)
    assert response.status_code == 200, response.text
    return dict(response.json())


def token_for(client: httpx.Client, app: dict[str, Any], user_id: int, **extra: Any) -> str:
    response = client.post(f"/_sandbox/apps/{app['id']}/tokens", json={"user_id": user_id, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def call(client: httpx.Client, method: str, token: str | None, **params: Any) -> tuple[int, Any]:
    body = params | ({"auth": token} if token is not None else {})
    response = client.post(f"/rest/{method}", json=body)
    return response.status_code, response.json()


def webhook(client: httpx.Client, method: str, **params: Any) -> tuple[int, Any]:
    response = client.post(f"/rest/{CONFIG.webhook_user_id}/{CONFIG.webhook_code}/{method}", json=params)
    return response.status_code, response.json()


def installed(client: httpx.Client, application: Application, **extra: Any) -> dict[str, Any]:
    app = register(client, application, **extra)
    assert client.post(f"/_sandbox/apps/{app['id']}/install", json={"user_id": 1}).status_code == 200
    client.post(f"/_sandbox/apps/{app['id']}/install-finish")
    return app


# -- install -----------------------------------------------------------------------------------
def test_ui_app_install_posts_the_frame_request_and_waits_for_install_finish(
    stack: tuple[httpx.Client, Application],
) -> None:
    client, application = stack
    app = register(client, application)
    answer = client.post(f"/_sandbox/apps/{app['id']}/install", json={"user_id": 1}).json()
    sent = application.requests[0]
    assert set(sent["query"]) == FRAME_QUERY_KEYS
    assert sent["query"]["DOMAIN"] == CONFIG.domain
    assert sent["query"]["PROTOCOL"] == "1"
    assert set(sent["form"]) == FRAME_BODY_KEYS
    assert sent["form"]["PLACEMENT"] == "DEFAULT"
    assert sent["form"]["member_id"] == CONFIG.member_id
    assert sent["form"]["status"] == "L"
    assert sent["form"]["APPLICATION_TOKEN"] == app["application_token"]
    assert answer["response"]["body"] == "<script>BX24.installFinish();</script>"
    # The install page bound the tab with the AUTH_ID it was given (an admin's token).
    assert application.bind_answer["result"] is True
    status, info = call(client, "app.info", sent["form"]["AUTH_ID"])
    assert status == 200
    assert info["result"]["INSTALLED"] is False
    client.post(f"/_sandbox/apps/{app['id']}/install-finish")
    info = call(client, "app.info", sent["form"]["AUTH_ID"])[1]["result"]
    assert info["INSTALLED"] is True
    assert list(shape_mismatches(APP_INFO, info)) == []
    assert info["STATUS"] == "L"


def test_api_only_app_install_posts_onappinstall(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application, ui=False)
    answer = client.post(f"/_sandbox/apps/{app['id']}/install", json={"user_id": 1}).json()
    form = application.requests[0]["form"]
    assert application.requests[0]["query"] == {}
    assert form["event"] == "ONAPPINSTALL"
    assert set(form["data"]) == {"VERSION", "ACTIVE", "INSTALLED", "LANGUAGE_ID"}
    # The documented auth keys (on-app-install.md) plus the tokens of installation-callback.md.
    assert {
        "domain",
        "server_endpoint",
        "status",
        "client_endpoint",
        "member_id",
        "application_token",
    } <= set(form["auth"])
    assert form["auth"]["application_token"] == app["application_token"]
    assert form["auth"]["member_id"] == CONFIG.member_id
    assert answer["installed"] is True
    assert call(client, "app.info", form["auth"]["access_token"])[1]["result"]["INSTALLED"] is True


def test_only_an_admin_installs(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application)
    response = client.post(f"/_sandbox/apps/{app['id']}/install", json={"user_id": 2})
    assert response.status_code == 403
    assert application.requests == []


# -- placement.bind / get / unbind ----------------------------------------------------------------
def test_placement_get_lists_the_binding_in_the_documented_shape(
    stack: tuple[httpx.Client, Application],
) -> None:
    client, application = stack
    app = installed(client, application)
    status, body = call(client, "placement.get", token_for(client, app, 1))
    assert status == 200
    rows = body["result"]
    assert [(r["placement"], r["handler"], r["title"]) for r in rows] == [
        ("CRM_DEAL_DETAIL_TAB", f"{application.own_url}/tab", "1С")
    ]
    assert list(shape_mismatches([PLACEMENT_GET_ROW], rows)) == []


def test_placement_bind_is_refused_to_a_webhook_and_to_a_non_admin(
    stack: tuple[httpx.Client, Application],
) -> None:
    client, application = stack
    app = register(client, application)
    bind = {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": "https://app.example.com/b24/tab", "TITLE": "1C"}
    assert webhook(client, "placement.bind", **bind) == (
        403,
        {
            "error": "WRONG_AUTH_TYPE",
            "error_description": "Current authorization type is denied for this method"
            " Application context required",
        },
    )
    status, body = call(client, "placement.bind", token_for(client, app, 2), **bind)
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    admin = token_for(client, app, 1)
    status, body = call(client, "placement.bind", admin, HANDLER="https://x.example/tab")
    assert (status, body["error"], body["error_description"]) == (
        400,
        "ERROR_ARGUMENT",
        "Argument 'PLACEMENT' is null or empty",
    )
    assert call(client, "placement.bind", admin, **bind)[1]["result"] is True
    assert call(client, "placement.get", admin)[1]["result"][0]["handler"] == bind["HANDLER"]
    assert webhook(client, "placement.get")[1]["error"] == "WRONG_AUTH_TYPE"


def test_placement_list_follows_the_app_scope(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application, scope=["placement"])
    token = token_for(client, app, 2)
    codes = call(client, "placement.list", token)[1]["result"]
    assert "LEFT_MENU" in codes
    assert "CRM_DEAL_DETAIL_TAB" not in codes
    assert "CRM_DEAL_DETAIL_TAB" in call(client, "placement.list", token, SCOPE="crm")[1]["result"]
    assert "LEFT_MENU" not in call(client, "placement.list", token, SCOPE="crm")[1]["result"]
    assert webhook(client, "placement.list")[0] == 403


def test_a_crm_placement_needs_the_crm_scope(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application, scope=["placement"])
    status, body = call(
        client,
        "placement.bind",
        token_for(client, app, 1),
        PLACEMENT="CRM_DEAL_DETAIL_TAB",
        HANDLER="https://x.example/tab",
    )
    assert (status, body["error"]) == (400, "ERROR_PLACEMENT_NOT_FOUND")


def test_placement_unbind_removes_the_handler_and_counts_per_the_docs(
    stack: tuple[httpx.Client, Application],
) -> None:
    client, application = stack
    app = installed(client, application)
    admin = token_for(client, app, 1)
    status, body = call(client, "placement.unbind", admin, PLACEMENT="CRM_DEAL_DETAIL_TAB")
    assert (status, body["result"]) == (200, {"count": 2})
    assert call(client, "placement.get", admin)[1]["result"] == []
    assert call(client, "placement.unbind", admin, PLACEMENT="CRM_DEAL_DETAIL_TAB")[1]["result"] == {
        "count": 0
    }
    response = client.post(f"/_sandbox/apps/{app['id']}/placements/open", json={"user_id": 2, "deal_id": 1})
    assert response.status_code == 404


# -- opening the tab ------------------------------------------------------------------------------
def test_opening_the_deal_tab_posts_the_documented_request(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = installed(client, application)
    deal_id = webhook(client, "crm.deal.add", fields={"TITLE": "Поставка труб", "ASSIGNED_BY_ID": 2})[1][
        "result"
    ]
    answer = client.post(
        f"/_sandbox/apps/{app['id']}/placements/open", json={"user_id": 2, "deal_id": deal_id}
    ).json()
    sent = application.requests[-1]
    assert sent["path"] == "/tab"
    assert set(sent["query"]) == FRAME_QUERY_KEYS
    assert set(sent["form"]) == FRAME_BODY_KEYS
    assert sent["form"]["PLACEMENT"] == "CRM_DEAL_DETAIL_TAB"
    # PLACEMENT_OPTIONS is a JSON string and the ID inside it is a string.
    assert isinstance(sent["form"]["PLACEMENT_OPTIONS"], str)
    assert json.loads(sent["form"]["PLACEMENT_OPTIONS"]) == {"ID": str(deal_id)}
    assert "PLACEMENT_OPTIONS=%7B%22ID%22" in sent["raw"]
    assert answer["response"]["status"] == 200
    assert answer["response"]["body"] == "<h1>Поставка труб</h1><p>Иванова</p>"
    # Each opening carries a fresh token for the user who opened it.
    status, me = call(client, "user.current", sent["form"]["AUTH_ID"])
    assert (status, me["result"]["ID"]) == (200, "2")
    raw = client.post(
        f"/_sandbox/apps/{app['id']}/placements/open", json={"user_id": 2, "deal_id": deal_id, "raw": True}
    )
    assert raw.status_code == 200
    assert raw.text == "<h1>Поставка труб</h1><p>Иванова</p>"
    assert raw.headers["content-type"].startswith("text/html")


def test_a_placement_of_an_unfinished_install_is_not_shown(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application)
    client.post(f"/_sandbox/apps/{app['id']}/install", json={"user_id": 1})
    before = len(application.requests)
    response = client.post(f"/_sandbox/apps/{app['id']}/placements/open", json={"user_id": 2, "deal_id": 1})
    assert response.status_code == 409
    assert len(application.requests) == before


def test_a_forged_field_reaches_the_handler_as_given(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = installed(client, application)
    answer = client.post(
        f"/_sandbox/apps/{app['id']}/placements/open",
        json={"user_id": 2, "deal_id": 1, "override": {"DOMAIN": "evil.example", "AUTH_ID": "forged"}},
    )
    assert answer.status_code == 200
    sent = application.requests[-1]
    assert sent["query"]["DOMAIN"] == "evil.example"
    assert sent["form"]["AUTH_ID"] == "forged"


# -- tokens -----------------------------------------------------------------------------------------
def test_tokens_act_as_their_own_user(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application)
    assert call(client, "user.current", token_for(client, app, 3))[1]["result"]["ID"] == "3"
    assert call(client, "user.current", token_for(client, app, 1))[1]["result"]["ID"] == "1"
    assert webhook(client, "app.info") == (
        400,
        {"error": "ACCESS_DENIED", "error_description": "Access denied! Application context required"},
    )
    journal = client.get("/_sandbox/calls?method=user.current").json()["calls"]
    assert [c["auth"]["user_id"] for c in journal] == [3, 1]
    assert all("auth" not in c["params"] for c in journal)


def test_token_refusals(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application)
    assert call(client, "user.current", None) == (
        401,
        {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"},
    )
    status, body = call(client, "user.current", "0" * 64)
    assert (status, body["error"]) == (401, "invalid_token")
    stale = token_for(client, app, 2)
    assert client.post("/_sandbox/app-tokens/expire", json={"access_token": stale}).status_code == 200
    status, body = call(client, "crm.deal.list", stale)
    assert (status, body["error"]) == (401, "expired_token")
    born_expired = token_for(client, app, 2, lifetime=-1)
    assert call(client, "user.current", born_expired)[1]["error"] == "expired_token"
    status, body = call(client, "catalog.product.list", token_for(client, app, 1))
    assert (status, body["error"]) == (401, "insufficient_scope")
    # The same scope rule holds inside a batch.
    status, body = call(
        client, "batch", token_for(client, app, 1), cmd={"a": "catalog.product.list", "b": "user.current"}
    )
    assert status == 200
    assert body["result"]["result_error"]["a"]["error"] == "insufficient_scope"
    assert body["result"]["result"]["b"]["ID"] == "1"


# -- per-user access to deals ---------------------------------------------------------------------
def test_a_user_without_access_to_the_deal_is_refused(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application)
    deal_id = webhook(client, "crm.deal.add", fields={"TITLE": "Чужая", "ASSIGNED_BY_ID": 2})[1]["result"]
    assert client.post("/_sandbox/deal-access", json={"user_id": 3, "deals": "own"}).status_code == 200
    assert client.post("/_sandbox/deal-access", json={"user_id": 4, "deals": "none"}).status_code == 200
    refusal = (400, {"error": "", "error_description": "Access denied"})
    status, body = call(client, "crm.deal.get", token_for(client, app, 3), id=deal_id)
    assert (status, {k: body[k] for k in ("error", "error_description")}) == refusal
    status, body = call(client, "crm.deal.get", token_for(client, app, 4), id=deal_id)
    assert (status, body["error_description"]) == (400, "Access denied")
    assert (
        call(client, "crm.deal.get", token_for(client, app, 2), id=deal_id)[1]["result"]["TITLE"] == "Чужая"
    )
    assert (
        call(client, "crm.deal.get", token_for(client, app, 1), id=deal_id)[1]["result"]["TITLE"] == "Чужая"
    )
    assert webhook(client, "crm.deal.get", id=deal_id)[1]["result"]["TITLE"] == "Чужая"
    status, body = call(client, "batch", token_for(client, app, 3), cmd={"d": f"crm.deal.get?id={deal_id}"})
    assert body["result"]["result_error"]["d"]["error_description"] == "Access denied"


def test_the_tab_of_a_user_without_access_shows_the_refusal(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = installed(client, application)
    deal_id = webhook(client, "crm.deal.add", fields={"TITLE": "Чужая", "ASSIGNED_BY_ID": 2})[1]["result"]
    client.post("/_sandbox/deal-access", json={"user_id": 3, "deals": "own"})
    answer = client.post(
        f"/_sandbox/apps/{app['id']}/placements/open", json={"user_id": 3, "deal_id": deal_id}
    ).json()
    assert answer["response"] == answer["response"] | {"status": 403, "body": "refused: Access denied"}


def test_sandbox_controls_reject_bad_input(stack: tuple[httpx.Client, Application]) -> None:
    client, _application = stack
    assert client.post("/_sandbox/apps", json={}).status_code == 400
    assert client.post("/_sandbox/apps/99/install", json={}).status_code == 404
    assert client.post("/_sandbox/deal-access", json={"user_id": 2, "deals": "some"}).status_code == 400
    assert client.post("/_sandbox/deal-access", json={"user_id": 999}).status_code == 400
    assert client.post("/_sandbox/apps", content=b"[1]").status_code == 400


def test_a_refresh_token_renews_the_access_token_once(stack: tuple[httpx.Client, Application]) -> None:
    client, application = stack
    app = register(client, application)
    issued = client.post(f"/_sandbox/apps/{app['id']}/tokens", json={"user_id": 2}).json()
    query = {
        "grant_type": "refresh_token",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "refresh_token": issued["refresh_token"],
    }
    renewed = client.get("/oauth/token/", params=query)
    assert renewed.status_code == 200
    body = renewed.json()
    assert body["member_id"] == CONFIG.member_id
    assert body["user_id"] == 2
    assert body["refresh_token"] != issued["refresh_token"]
    assert call(client, "user.current", body["access_token"])[1]["result"]["ID"] == "2"
    assert call(client, "user.current", issued["access_token"])[1]["error"] == "invalid_token"
    assert client.get("/oauth/token/", params=query).json()["error"] == "invalid_grant"
    wrong_secret = client.get("/oauth/token/", params=query | {"client_secret": "x"})
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
