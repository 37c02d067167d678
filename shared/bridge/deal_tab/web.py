"""The local application's HTTP side (ASGI, Starlette; mangum runs it in Lambda):

- `POST /b24/app/install`: the install page (frame POST with `PLACEMENT=DEFAULT`) or `ONAPPINSTALL`;
  binds `CRM_DEAL_DETAIL_TAB`, remembers the application, answers a page calling `BX24.installFinish()`;
- `POST /b24/app/uninstall`: unbinds the tab (an administrator's frame POST);
- `POST /b24/app/deal-tab`: the tab, when a user opens it in the deal card;
- `POST /b24/app/deal-tab/resync`: the «Синхронизировать сейчас» button (CSRF token required).

Every request is authenticated as `security` describes before anything is read; a refusal is a
4xx page with the reason (and a log line without tokens), never a 5xx. Dependencies come from
`bridge.deps` through `handlers.use`, so tests swap them like any handler's.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bridge import deps, settings
from bridge.b24.errors import B24Error
from bridge.b24.php_query import QueryRejected, decode
from bridge.deal_tab import installs, render, view
from bridge.deal_tab.security import (
    PLACEMENT,
    Frame,
    Refused,
    Viewer,
    authenticate,
    csrf_token,
    csrf_valid,
    open_deal,
    parse_frame,
    same_portal,
)
from bridge.errors import ConfigurationError, TransientError
from bridge.handlers import count, use
from bridge.observability import logger

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 200
TAB_PATH = "/b24/app/deal-tab"
_HIDDEN = ("DOMAIN", "member_id", "AUTH_ID", "PLACEMENT", "PLACEMENT_OPTIONS", "LANG")


def clock() -> float:
    """Seconds since the epoch; a provider so a test can age a CSRF token."""
    return time.time()


def _headers() -> dict[str, str]:
    """The card's iframe may show the page; nothing else may frame it (clickjacking)."""
    ancestors = ["'self'"]
    runtime = settings.runtime_settings()
    if runtime.b24_portal_domain:
        ancestors.append(f"https://{runtime.b24_portal_domain}")
    with contextlib.suppress(ConfigurationError):
        ancestors.append(deps.portal_origin(settings.credentials().b24_webhook_url.get_secret_value()))
    framing = " ".join(dict.fromkeys(ancestors))
    return {
        "Content-Security-Policy": f"frame-ancestors {framing}; form-action 'self'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def page(html: str, status: int = 200) -> HTMLResponse:
    try:
        headers = _headers()
    except ConfigurationError:
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return HTMLResponse(html, status_code=status, headers=headers)


async def _form(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """(query, form body) as PHP would read them; 413 over 64 KB, 400 for a body that is not text."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, "the request body is over 64 KB")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise Refused(413, "the request body is over 64 KB")
    try:
        text = raw.decode("utf-8")
        form = decode(text, max_fields=MAX_FIELDS)
        query = decode(request.url.query, max_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise Refused(400, "the request body is not UTF-8 text") from None
    except (QueryRejected, ValueError) as error:
        raise Refused(400, f"the request is not a form: {error}") from None
    return query, form


type Work = Callable[[Request, Mapping[str, Any], Mapping[str, Any]], Response]


def _guarded(name: str, work: Work) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            query, form = await _form(request)
            return work(request, query, form)
        except Refused as refusal:
            logger.warning(f"{name} refused", extra={"status": refusal.status, "reason": refusal.reason})
            count("DealTabRefused")
            return page(
                render.message_page("refused", "Доступ к вкладке «1С» закрыт", refusal.reason), refusal.status
            )
        except (TransientError, B24Error) as error:
            logger.warning(f"{name}: retry later", extra={"error": str(error)})
            text = f"1С или Битрикс24 сейчас не отвечает ({error}). Откройте вкладку ещё раз через минуту."
            return page(render.message_page("unavailable", "Нет связи", text), 503)
        except ConfigurationError as error:
            logger.error(f"{name}: not configured", extra={"error": str(error)})
            text = "Мост 1С — Битрикс24 не настроен для вкладки; сообщите администратору."
            return page(render.message_page("unavailable", "Не настроено", text), 500)

    return endpoint


def _portal_checked(query: Mapping[str, Any], form: Mapping[str, Any], *, deal: bool) -> Frame:
    frame = parse_frame(query, form, deal=deal)
    runtime = settings.runtime_settings()
    same_portal(frame, runtime.b24_portal_domain, runtime.b24_member_id)
    return frame


# --- install / uninstall ---------------------------------------------------------------------------


def _install_frame(query: Mapping[str, Any], form: Mapping[str, Any]) -> Frame:
    """The frame POST of a UI app; or ONAPPINSTALL (its `auth[...]` block) of an API-only one."""
    if str(form.get("event", "")).upper() != "ONAPPINSTALL":
        return _portal_checked(query, form, deal=False)
    auth = form.get("auth")
    if not isinstance(auth, Mapping):
        raise Refused(400, "ONAPPINSTALL without its auth block")
    if not auth.get("access_token"):
        # installation-callback.md says it carries one, on-app-install.md's sample does not
        # (needs a live check, docs/sandbox-b24.md).
        raise Refused(
            400,
            "ONAPPINSTALL carries no access_token: the tab cannot be bound (install it as a UI application)",
        )
    fields = {
        "DOMAIN": auth.get("domain"),
        "member_id": auth.get("member_id"),
        "AUTH_ID": auth.get("access_token"),
        "APPLICATION_TOKEN": auth.get("application_token"),
        "PLACEMENT": "DEFAULT",
    }
    return _portal_checked({}, {k: v for k, v in fields.items() if v is not None}, deal=False)


def _handler_url(request: Request) -> str:
    base = settings.runtime_settings().app_base_url
    if base:
        return base.rstrip("/") + TAB_PATH
    return str(request.url.replace(path=TAB_PATH, query=""))


def install(request: Request, query: Mapping[str, Any], form: Mapping[str, Any]) -> Response:
    frame = _install_frame(query, form)
    ports = use(deps.default_ports)
    outcome = installs.install(use(deps.portal_as_user), frame, _handler_url(request), ports.store)
    logger.info(
        "deal tab installed",
        extra={"app_id": outcome.app_id, "user_id": outcome.user_id, "placement": outcome.bound},
    )
    ports.store.audit.record(
        "deal_tab",
        "B24-APP",
        "Installed",
        {"app_id": outcome.app_id, "user": outcome.user_id, "placement": outcome.bound},
    )
    text = "Вкладка «1С» добавлена в карточку сделки."
    return page(render.message_page("installed", "Приложение установлено", text, install_finish=True))


def uninstall(request: Request, query: Mapping[str, Any], form: Mapping[str, Any]) -> Response:
    frame = _portal_checked(query, form, deal=False)
    ports = use(deps.default_ports)
    portal = use(deps.portal_as_user)
    viewer = authenticate(portal, frame, installs.installed(ports.store, frame.member_id))
    try:
        removed = installs.uninstall(portal, frame, ports.store)
    except B24Error as error:
        raise Refused(403, f"placement.unbind refused: {error.code or error.description}") from None
    ports.store.audit.record("deal_tab", "B24-APP", "Uninstalled", {"user": viewer.user_id, "count": removed})
    return page(
        render.message_page("uninstalled", "Вкладка убрана", "Вкладка «1С» убрана из карточки сделки.")
    )


# --- the tab ---------------------------------------------------------------------------------------


def _tab(query: Mapping[str, Any], form: Mapping[str, Any], *, resync: bool) -> Response:
    frame = _portal_checked(query, form, deal=True)
    assert frame.deal_id is not None
    deal_id = frame.deal_id
    ports = use(deps.default_ports)
    portal = use(deps.portal_as_user)
    key = use(deps.deal_tab_key)
    now = use(clock)

    def pressed(viewer: Viewer) -> None:
        if not csrf_valid(key, _text(form.get("csrf")), frame.member_id, viewer.user_id, deal_id, now):
            raise Refused(
                403, "the button's CSRF token is missing, forged, for another deal or expired: reopen the tab"
            )

    installed = installs.installed(ports.store, frame.member_id)
    opened = open_deal(portal, frame, installed, deal_id, before_deal=pressed if resync else None)
    viewer = opened.viewer
    outcome: str | None = None
    ok = True
    if resync:
        ok, outcome = view.resync(frame.deal_id, ports)
        logger.info("deal tab resync", extra={"deal_id": frame.deal_id, "user_id": viewer.user_id, "ok": ok})
        # The flow may have changed the deal and its rows: read them again (one more call).
        opened = open_deal(portal, frame, installs.installed(ports.store, frame.member_id), frame.deal_id)
    web = settings.runtime_settings().onec_web_client_url
    refresh = settings.runtime_settings().deal_tab_stock_refresh
    tab = view.build(
        frame.deal_id, opened.deal, ports, web_base=web, refresh_catalog=refresh, rows=opened.rows
    )
    hidden = {
        "DOMAIN": frame.domain,
        "member_id": frame.member_id,
        "AUTH_ID": frame.auth_id.get_secret_value(),
        "PLACEMENT": PLACEMENT,
        "PLACEMENT_OPTIONS": _text(form.get("PLACEMENT_OPTIONS")) or "",
        "LANG": frame.lang,
    }
    csrf = csrf_token(key, frame.member_id, viewer.user_id, frame.deal_id, now)
    return page(render.tab_page(tab, hidden=hidden, csrf=csrf, outcome=outcome, outcome_ok=ok))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def deal_tab(request: Request, query: Mapping[str, Any], form: Mapping[str, Any]) -> Response:
    return _tab(query, form, resync=False)


def deal_tab_resync(request: Request, query: Mapping[str, Any], form: Mapping[str, Any]) -> Response:
    return _tab(query, form, resync=True)


app = Starlette(
    routes=[
        Route("/b24/app/install", _guarded("deal tab install", install), methods=["POST"]),
        Route("/b24/app/uninstall", _guarded("deal tab uninstall", uninstall), methods=["POST"]),
        Route(TAB_PATH, _guarded("deal tab", deal_tab), methods=["POST"]),
        Route(f"{TAB_PATH}/resync", _guarded("deal tab resync", deal_tab_resync), methods=["POST"]),
    ]
)
