"""`/_sandbox/apps/...`: register a local application, install it, issue tokens, open placements.

Installing and opening a placement make the emulator POST to the application exactly as the
portal does (sandbox.b24.apps builds the requests); the handler's answer comes back to the test.
"""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.b24.php_query import encode
from sandbox.b24.apps import DEFAULT_TOKEN_LIFETIME, AppRegistry, LocalApp, frame_request, install_event

if TYPE_CHECKING:
    from sandbox.b24.emulator import Emulator

DEAL_ACCESS_LEVELS = ("all", "own", "none")


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every POST: building one per client costs far more than the POST."""
    return ssl.create_default_context()


class BadRequest(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _int(body: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(body.get(name, default))
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be an integer") from None


def routes(emulator: Emulator) -> list[Route]:
    portal = emulator.portal
    apps: AppRegistry = emulator.dispatcher.apps

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                result: Response = await handler(request)
            except BadRequest as exc:
                return JSONResponse({"error": exc.reason}, status_code=exc.status)
            return result

        return endpoint

    def find(request: Request) -> LocalApp:
        app = apps.find(request.path_params["app"])
        if app is None:
            raise BadRequest(f"no application {request.path_params['app']}", 404)
        return app

    def user(user_id: int, *, admin: bool = False) -> None:
        row = portal.table("users").get(user_id)
        if row is None:
            raise BadRequest(f"no user {user_id}")
        if admin and not row.get("_ADMIN"):
            raise BadRequest(f"user {user_id} is not a portal administrator; only admins install", 403)

    async def post(url: str, query: dict[str, str] | None, body: str) -> dict[str, Any]:
        target = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}" if query else url
        try:
            async with httpx.AsyncClient(
                timeout=portal.config.event_timeout_seconds * 2, verify=_tls()
            ) as client:
                response = await client.post(
                    target, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
                )
        except httpx.HTTPError as exc:
            raise BadRequest(f"handler {url} unreachable: {type(exc).__name__}", 502) from None
        return {
            "status": response.status_code,
            "headers": dict(response.headers),
            "body": response.text,
        }

    async def register(request: Request) -> Response:
        body = await _json(request)
        if not body.get("handler"):
            raise BadRequest("handler (the installation path) is required")
        with portal.lock:
            app = apps.register(body)
        return JSONResponse(app.public())

    async def listing(request: Request) -> Response:
        return JSONResponse([a.public() for a in apps.apps.values()])

    async def show(request: Request) -> Response:
        return JSONResponse(find(request).public())

    async def install(request: Request) -> Response:
        app = find(request)
        body = await _json(request)
        user_id = _int(body, "user_id", portal.config.webhook_user_id)
        user(user_id, admin=True)
        lang = str(body.get("lang", "ru"))
        token = apps.issue(app, user_id)
        if app.ui:
            # A UI app is installed only once its install page calls BX24.installFinish().
            query, form = frame_request(portal.config, app, token, "DEFAULT", None, lang)
            sent = {"query": query, "form": form}
            response = await post(app.handler, query, urlencode(form))
        else:
            event = install_event(portal.config, app, token, lang)
            sent = {"query": {}, "form": event}
            response = await post(app.handler, None, encode(event))
            if response["status"] < 300:
                app.installed = True
        return JSONResponse({"request": sent, "response": response, "installed": app.installed})

    async def install_finish(request: Request) -> Response:
        app = find(request)
        app.installed = True
        return JSONResponse({"installed": True})

    async def uninstall(request: Request) -> Response:
        app = find(request)
        app.installed = False
        app.bindings.clear()
        for key in [k for k, t in apps.tokens.items() if t.app_id == app.id]:
            apps.tokens.pop(key)
        return JSONResponse({"installed": False})

    async def token(request: Request) -> Response:
        app = find(request)
        body = await _json(request)
        user_id = _int(body, "user_id", portal.config.webhook_user_id)
        user(user_id)
        lifetime = _int(body, "lifetime", DEFAULT_TOKEN_LIFETIME)
        issued = apps.issue(app, user_id, lifetime)
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "refresh_token": issued.refresh_token,
                "expires_in": lifetime,
                "user_id": user_id,
            }
        )

    async def expire(request: Request) -> Response:
        body = await _json(request)
        if not apps.expire(str(body.get("access_token", ""))):
            raise BadRequest("no such access token", 404)
        return JSONResponse({"expired": True})

    async def deal_access(request: Request) -> Response:
        body = await _json(request)
        user_id = _int(body, "user_id", 0)
        user(user_id)
        level = str(body.get("deals", "all"))
        if level not in DEAL_ACCESS_LEVELS:
            raise BadRequest(f"deals must be one of {', '.join(DEAL_ACCESS_LEVELS)}")
        apps.deal_access[user_id] = level
        return JSONResponse({"user_id": user_id, "deals": level})

    async def open_placement(request: Request) -> Response:
        """What the portal does when a user opens a placement: a fresh token for that user and a
        form POST to the bound handler (query DOMAIN/PROTOCOL/LANG/APP_SID, body AUTH_ID, …)."""
        app = find(request)
        body = await _json(request)
        code = str(body.get("placement", "CRM_DEAL_DETAIL_TAB")).upper()
        user_id = _int(body, "user_id", portal.config.webhook_user_id)
        user(user_id)
        if not app.installed:
            raise BadRequest("the application is not installed (BX24.installFinish not called)", 409)
        bound = [b for b in app.bindings if b["placement"] == code and b["user_id"] in (0, user_id)]
        if body.get("handler"):
            bound = [b for b in bound if b["handler"] == body["handler"]]
        if not bound:
            raise BadRequest(f"nothing bound to {code} for user {user_id}", 404)
        options = body.get("options")
        if options is None and "deal_id" in body:
            options = {"ID": str(body["deal_id"])}
        if options is not None and not isinstance(options, dict):
            raise BadRequest("options must be an object")
        issued = apps.issue(app, user_id)
        query, form = frame_request(portal.config, app, issued, code, options, str(body.get("lang", "ru")))
        for name, value in dict(body.get("override") or {}).items():
            # Lets a test forge one field (a foreign DOMAIN, a stale AUTH_ID) of an otherwise true request.
            (query if name in query else form)[str(name)] = str(value)
        response = await post(bound[0]["handler"], query, urlencode(form))
        if body.get("raw"):
            headers = {
                k: v
                for k, v in response["headers"].items()
                if k.lower() in ("content-type", "x-frame-options")
            }
            return Response(response["body"], status_code=response["status"], headers=headers)
        return JSONResponse({"request": {"query": query, "form": form}, "response": response})

    async def oauth_token(request: Request) -> Response:
        """`oauth.bitrix.info/oauth/token/` (settings/oauth/index.md), served here so a sandboxed app
        can renew its token: grant_type=refresh_token, client_id, client_secret, refresh_token."""
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        app = apps.find(params.get("client_id", ""))
        if app is None or params.get("client_secret") != app.client_secret:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Invalid client credentials"}, 401
            )
        old = apps.refresh.get(params.get("refresh_token", ""))
        if params.get("grant_type") != "refresh_token" or old is None or old.app_id != app.id:
            return JSONResponse({"error": "invalid_grant", "error_description": "Invalid grant"}, 400)
        # A refresh token is single-use: it and its access token give way to the new pair.
        apps.refresh.pop(old.refresh_token, None)
        apps.tokens.pop(old.access_token, None)
        issued = apps.issue(app, old.user_id)
        event = install_event(portal.config, app, issued)["auth"]
        numbers = {"user_id": issued.user_id, "expires": int(issued.expires_at), "expires_in": 3600}
        return JSONResponse(event | numbers)

    return [
        Route("/oauth/token/", oauth_token, methods=["GET", "POST"]),
        Route("/_sandbox/apps", guarded(register), methods=["POST"]),
        Route("/_sandbox/apps", guarded(listing), methods=["GET"]),
        Route("/_sandbox/app-tokens/expire", guarded(expire), methods=["POST"]),
        Route("/_sandbox/deal-access", guarded(deal_access), methods=["POST"]),
        Route("/_sandbox/apps/{app}", guarded(show), methods=["GET"]),
        Route("/_sandbox/apps/{app}/install", guarded(install), methods=["POST"]),
        Route("/_sandbox/apps/{app}/install-finish", guarded(install_finish), methods=["POST"]),
        Route("/_sandbox/apps/{app}/uninstall", guarded(uninstall), methods=["POST"]),
        Route("/_sandbox/apps/{app}/tokens", guarded(token), methods=["POST"]),
        Route("/_sandbox/apps/{app}/placements/open", guarded(open_placement), methods=["POST"]),
    ]
