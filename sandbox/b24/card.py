"""The portal side of opening a deal tab in a browser: a simplified deal card and its placement frame.

A real portal renders a deal card; each application bound to `CRM_DEAL_DETAIL_TAB` adds a tab whose
body is an iframe. The iframe's first document is a form the portal fills with the documented
placement request (query DOMAIN, PROTOCOL, LANG, APP_SID; body AUTH_ID, REFRESH_ID, member_id,
PLACEMENT, PLACEMENT_OPTIONS …, `sandbox.b24.apps.frame_request`) and submits at once to the bound
handler, with a fresh access token of the signed-in user. So the application's page loads in the
frame exactly as it would in the portal, and a browser test can drive it.

The signed-in user is picked by `?user=<id>` (remembered in a cookie) or the cookie alone; without
either it is the webhook's user (the admin). docs/sandbox-b24.md "Local application and placements".
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sandbox.b24.apps import AppRegistry, LocalApp, frame_request

if TYPE_CHECKING:
    from sandbox.b24.emulator import Emulator

USER_COOKIE = "b24_sandbox_user"
TAB_PLACEMENT = "CRM_DEAL_DETAIL_TAB"
FRAME_FORM_ID = "placement-request"

_STYLE = """
body{font-family:"Open Sans","Helvetica Neue",Arial,sans-serif;margin:0;background:#eef2f4;color:#333}
header{background:#fff;padding:14px 24px;border-bottom:1px solid #dfe3e6}
header h1{font-size:22px;margin:0 0 4px}
header .meta{color:#80868e;font-size:13px}
nav{display:flex;gap:4px;padding:0 24px;background:#fff;border-bottom:1px solid #dfe3e6}
nav button{border:0;background:none;padding:10px 14px;font-size:14px;cursor:pointer;color:#525c69}
nav button.active{border-bottom:2px solid #2fc6f6;color:#333}
section.tab{display:none;padding:16px 24px}
section.tab.active{display:block}
section.tab iframe{width:100%;height:900px;border:0;background:#fff}
table.fields td{padding:4px 12px 4px 0}
"""

_SCRIPT = """
document.querySelectorAll('nav button').forEach(function (button) {
  button.addEventListener('click', function () {
    document.querySelectorAll('nav button, section.tab').forEach(function (el) {
      el.classList.remove('active');
    });
    button.classList.add('active');
    var section = document.getElementById(button.dataset.tab);
    section.classList.add('active');
    // Like the portal, a placement's frame loads when its tab is first opened.
    var frame = section.querySelector('iframe[data-src]');
    if (frame && !frame.getAttribute('src')) { frame.setAttribute('src', frame.dataset.src); }
  });
});
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status)


def _refusal(status: int, text: str) -> HTMLResponse:
    return _page("Ошибка", f'<p id="refusal">{escape(text)}</p>', status)


def deal_visible(apps: AppRegistry, user: dict[str, Any], deal: dict[str, Any]) -> bool:
    """The same rule `crm.deal.get` applies to a user's token (sandbox.b24.methods.placement)."""
    if user.get("_ADMIN"):
        return True
    level = apps.deal_access.get(int(user["ID"]), "all")
    if level == "own":
        return str(deal.get("ASSIGNED_BY_ID")) == str(user["ID"])
    return level == "all"


def tabs_for(apps: AppRegistry, user_id: int) -> list[tuple[LocalApp, int, dict[str, Any]]]:
    """(app, index of the binding, binding) of every deal tab this user sees, in bind order."""
    return [
        (app, index, binding)
        for app in apps.apps.values()
        if app.installed
        for index, binding in enumerate(app.bindings)
        if binding["placement"] == TAB_PLACEMENT and binding["user_id"] in (0, user_id)
    ]


def tab_title(binding: dict[str, Any], lang: str = "ru") -> str:
    localized = (binding.get("lang_all") or {}).get(lang) or {}
    return str(localized.get("TITLE") or binding.get("title") or "Приложение")


def routes(emulator: Emulator) -> list[Route]:
    portal = emulator.portal
    apps: AppRegistry = emulator.dispatcher.apps

    def signed_in(request: Request) -> tuple[int, dict[str, Any] | None]:
        raw = request.query_params.get("user") or request.cookies.get(USER_COOKIE)
        try:
            user_id = int(raw) if raw else portal.config.webhook_user_id
        except ValueError:
            return 0, None
        return user_id, portal.table("users").get(user_id)

    async def deal_card(request: Request) -> Response:
        user_id, user = signed_in(request)
        if user is None:
            return _refusal(401, "Пользователь не найден: укажите ?user=<ID> существующего сотрудника.")
        deal_id = request.path_params["deal"]
        deal = portal.table("deals").get(deal_id)
        if deal is None:
            return _refusal(404, f"Сделка {deal_id} не найдена.")
        if not deal_visible(apps, user, deal):
            return _refusal(403, "Доступ к сделке запрещён.")
        stage = next(
            (s for s in portal.table("statuses").values() if s.get("STATUS_ID") == deal.get("STAGE_ID")), {}
        )
        buttons = ['<button class="active" data-tab="tab-main">Общие</button>']
        sections = [
            '<section class="tab active" id="tab-main"><table class="fields">'
            f"<tr><td>Стадия</td><td>{escape(str(stage.get('NAME') or deal.get('STAGE_ID') or ''))}</td></tr>"
            f"<tr><td>Сумма</td><td>{escape(str(deal.get('OPPORTUNITY') or ''))} "
            f"{escape(str(deal.get('CURRENCY_ID') or ''))}</td></tr>"
            "</table></section>"
        ]
        for app, index, binding in tabs_for(apps, user_id):
            tab_id = f"tab-app-{app.id}-{index}"
            frame = "/_sandbox/placement-frame?" + urlencode(
                {"app": app.id, "binding": index, "deal": deal_id, "user": user_id}
            )
            buttons.append(
                f'<button data-tab="{tab_id}" data-placement="{TAB_PLACEMENT}">'
                f"{escape(tab_title(binding))}</button>"
            )
            sections.append(
                f'<section class="tab" id="{tab_id}">'
                f'<iframe name="{tab_id}" title="{escape(tab_title(binding))}" data-src="{escape(frame)}">'
                "</iframe></section>"
            )
        name = f"{user.get('NAME', '')} {user.get('LAST_NAME', '')}".strip()
        body = (
            f'<header><h1 id="deal-title">{escape(str(deal.get("TITLE") or ""))}</h1>'
            f'<div class="meta">Сделка № {escape(str(deal_id))} · {escape(name)}</div></header>'
            f"<nav>{''.join(buttons)}</nav>{''.join(sections)}<script>{_SCRIPT}</script>"
        )
        response = _page(str(deal.get("TITLE") or f"Сделка {deal_id}"), body)
        if request.query_params.get("user"):
            response.set_cookie(USER_COOKIE, str(user_id), httponly=True, samesite="lax")
        return response

    async def placement_frame(request: Request) -> Response:
        """The iframe's first document: the placement request as a form that submits itself."""
        user_id, user = signed_in(request)
        if user is None:
            return _refusal(401, "Пользователь не найден.")
        params = request.query_params
        app = apps.find(params.get("app", ""))
        if app is None:
            return _refusal(404, f"Нет приложения {params.get('app', '')}.")
        if not app.installed:
            return _refusal(409, "Приложение не установлено (BX24.installFinish не вызван).")
        try:
            binding = app.bindings[int(params.get("binding", "0"))]
        except (ValueError, IndexError):
            return _refusal(404, "Обработчик места встройки не найден.")
        if binding["placement"] != TAB_PLACEMENT or binding["user_id"] not in (0, user_id):
            return _refusal(404, "Обработчик места встройки не найден.")
        deal_id = params.get("deal", "")
        deal = portal.table("deals").get(deal_id)
        if deal is None or not deal_visible(apps, user, deal):
            return _refusal(403, "Доступ к сделке запрещён.")
        with portal.lock:
            token = apps.issue(app, user_id)
        query, form = frame_request(
            portal.config, app, token, TAB_PLACEMENT, {"ID": str(deal_id)}, params.get("lang", "ru")
        )
        handler = str(binding["handler"])
        action = f"{handler}{'&' if '?' in handler else '?'}{urlencode(query)}"
        fields = "".join(
            f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
            for name, value in form.items()
        )
        body = (
            f'<form id="{FRAME_FORM_ID}" method="post" action="{escape(action)}" '
            'enctype="application/x-www-form-urlencoded">'
            f'{fields}<noscript><button type="submit">Открыть</button></noscript></form>'
            f"<script>document.getElementById('{FRAME_FORM_ID}').submit();</script>"
        )
        response = _page("Загрузка…", body)
        # The form carries a live token: it must not be cached or replayed from history.
        response.headers["Cache-Control"] = "no-store"
        return response

    return [
        Route("/crm/deal/details/{deal}/", deal_card, methods=["GET"]),
        Route("/_sandbox/placement-frame", placement_frame, methods=["GET"]),
    ]
