"""Local applications: registration, OAuth access tokens per user, install and placement requests.

A real portal knows an application by its client id/secret; the application acts through access
tokens (`auth=<AUTH_ID>` on `/rest/<method>`) that belong to one user, carry the application's
scope and expire. The portal also POSTs to the application: the install request to the install
handler, and a placement request to a bound handler each time a user opens that placement.
docs/sandbox-b24.md "Local application and placements" lists the sources of every shape here.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.b24 import errors

# Methods any application token may call whatever its scope (scope `basic` in the docs).
BASIC_METHODS = frozenset(
    {
        "app.info",
        "user.current",
        "profile",
        "scope",
        "methods",
        "method.get",
        "server.time",
        "batch",
        "event.bind",
        "event.unbind",
        "event.get",
        "feature.get",
    }
)
# First segment of a method name → the scope it needs (the rest are not gated by the emulator).
SCOPE_OF_PREFIX = {
    "crm": "crm",
    "catalog": "catalog",
    "placement": "placement",
    "user": "user",
    "department": "department",
    "lists": "lists",
    "im": "im",
    "bizproc": "bizproc",
    "userfieldconfig": "userfieldconfig",
}
DEFAULT_TOKEN_LIFETIME = 3600


@dataclass
class AuthContext:
    """Who a REST call acts as when it arrives with an application access token."""

    app_id: int
    user_id: int
    token: str


@dataclass
class LocalApp:
    id: int
    code: str
    handler: str  # the "initial installation path" of the application card
    scope: list[str]
    client_id: str
    client_secret: str
    application_token: str
    ui: bool = True  # False: "script only" (API-only) application
    version: int = 1
    installed: bool = False
    # placement bindings: {placement, handler, title, description, group_name, lang_all, options, user_id}
    bindings: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "handler": self.handler,
            "scope": list(self.scope),
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "application_token": self.application_token,
            "ui": self.ui,
            "version": self.version,
            "installed": self.installed,
            "bindings": [dict(b) for b in self.bindings],
        }


@dataclass
class Token:
    access_token: str
    refresh_token: str
    app_id: int
    user_id: int
    expires_at: float


class AppRegistry:
    """Applications and their tokens. Not part of the portal snapshot: tokens are short-lived."""

    def __init__(self) -> None:
        self.apps: dict[int, LocalApp] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh: dict[str, Token] = {}
        # user id → "all" | "own" | "none": what that user's CRM role lets them read in deals.
        self.deal_access: dict[int, str] = {}
        self._next_id = 1

    def clear(self) -> None:
        self.apps.clear()
        self.tokens.clear()
        self.refresh.clear()
        self.deal_access.clear()
        self._next_id = 1

    def register(self, body: dict[str, Any]) -> LocalApp:
        scope = body.get("scope", ["crm", "placement", "user_brief"])
        if isinstance(scope, str):
            scope = [s.strip() for s in scope.split(",") if s.strip()]
        app = LocalApp(
            id=self._next_id,
            code=str(body.get("code") or f"local.{secrets.token_hex(6)}.{self._next_id}"),
            handler=str(body["handler"]),
            scope=[str(s) for s in scope],
            client_id=str(body.get("client_id") or f"local.{secrets.token_hex(7)}.{secrets.token_hex(4)}"),
            client_secret=str(body.get("client_secret") or secrets.token_urlsafe(32)),
            application_token=str(body.get("application_token") or secrets.token_hex(16)),
            ui=bool(body.get("ui", True)),
            version=int(body.get("version", 1)),
        )
        self._next_id += 1
        self.apps[app.id] = app
        return app

    def find(self, key: Any) -> LocalApp | None:
        """By numeric id, code or client id (tests know whichever they registered)."""
        for app in self.apps.values():
            if str(key) in (str(app.id), app.code, app.client_id):
                return app
        return None

    def issue(self, app: LocalApp, user_id: int, lifetime: float = DEFAULT_TOKEN_LIFETIME) -> Token:
        token = Token(
            access_token=secrets.token_hex(32),
            refresh_token=secrets.token_hex(32),
            app_id=app.id,
            user_id=user_id,
            expires_at=time.time() + lifetime,
        )
        self.tokens[token.access_token] = token
        self.refresh[token.refresh_token] = token
        return token

    def expire(self, access_token: str) -> bool:
        token = self.tokens.get(access_token)
        if token is None:
            return False
        token.expires_at = 0.0
        return True

    def authenticate(self, access_token: Any) -> AuthContext:
        """The auth errors of a REST call made with `auth=<token>` (docs' system-error table)."""
        if access_token in (None, ""):
            raise errors.no_auth()
        token = self.tokens.get(str(access_token))
        if token is None or token.app_id not in self.apps:
            raise invalid_token()
        if token.expires_at <= time.time():
            raise expired_token()
        return AuthContext(token.app_id, token.user_id, token.access_token)

    def check_scope(self, auth: AuthContext, method: str) -> None:
        check_granted(set(self.apps[auth.app_id].scope), method)


def check_granted(scope: set[str], method: str) -> None:
    """insufficient_scope unless `scope` covers `method` (apps, and a webhook limited through
    `/_sandbox/webhook-scopes`)."""
    if method in BASIC_METHODS:
        return
    needed = SCOPE_OF_PREFIX.get(method.split(".", 1)[0])
    if needed is None:
        return
    # `user_brief`/`user_basic` are narrower grants of `user`; the user.* readers accept them.
    if needed == "user" and scope & {"user_brief", "user_basic"}:
        return
    if needed not in scope:
        raise insufficient_scope()


# -- errors ------------------------------------------------------------------------------------
def invalid_token() -> errors.B24Error:
    # Not in the docs' system-error table; the text follows the OAuth server (needs a live check).
    return errors.B24Error("invalid_token", "The access token provided is invalid.", 401)


def expired_token() -> errors.B24Error:
    return errors.B24Error("expired_token", "The access token provided has expired.", 401)


def insufficient_scope() -> errors.B24Error:
    # Docs' system-error table: 401, and for an application the text ends "by the access token".
    return errors.B24Error(
        "insufficient_scope",
        "The request requires higher privileges than provided by the access token",
        401,
    )


def wrong_auth_type() -> errors.B24Error:
    return errors.B24Error(
        "WRONG_AUTH_TYPE",
        "Current authorization type is denied for this method Application context required",
        403,
    )


def admin_only() -> errors.B24Error:
    return errors.B24Error("ACCESS_DENIED", "Access denied!", 403)


# -- requests the portal sends to the application -----------------------------------------------
def frame_request(
    config: Any,
    app: LocalApp,
    token: Token,
    placement: str,
    options: dict[str, Any] | None,
    lang: str = "ru",
) -> tuple[dict[str, str], dict[str, str]]:
    """(query, form body) of the POST that opens the app in a frame: install page, main page or a
    placement (widgets/_includes/widget_data.md, widgets/crm/detail-tab.md)."""
    query = {
        "DOMAIN": config.domain,
        "PROTOCOL": "1",
        "LANG": lang,
        "APP_SID": secrets.token_hex(16),
    }
    body = {
        "AUTH_ID": token.access_token,
        "AUTH_EXPIRES": str(DEFAULT_TOKEN_LIFETIME),
        "REFRESH_ID": token.refresh_token,
        "SERVER_ENDPOINT": "https://oauth.bitrix.info/rest/",
        "APPLICATION_TOKEN": app.application_token,
        "APPLICATION_SCOPE": ",".join(app.scope),
        "member_id": config.member_id,
        "status": "L",
        "PLACEMENT": placement,
        # A JSON *string*, even when empty (`[]` is PHP's empty array).
        "PLACEMENT_OPTIONS": json.dumps(options, ensure_ascii=False) if options else "[]",
    }
    return query, body


def install_event(config: Any, app: LocalApp, token: Token, lang: str = "ru") -> dict[str, Any]:
    """ONAPPINSTALL as an API-only ("script only") application's install handler receives it."""
    return {
        "event": "ONAPPINSTALL",
        "data": {"VERSION": str(app.version), "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": lang},
        "ts": str(int(time.time())),
        "auth": {
            "access_token": token.access_token,
            "expires": str(int(token.expires_at)),
            "expires_in": str(DEFAULT_TOKEN_LIFETIME),
            "scope": ",".join(app.scope),
            "domain": config.domain,
            "server_endpoint": "https://oauth.bitrix.info/rest/",
            "status": "L",
            "client_endpoint": f"https://{config.domain}/rest/",
            "member_id": config.member_id,
            "user_id": str(token.user_id),
            "refresh_token": token.refresh_token,
            "application_token": app.application_token,
        },
    }
