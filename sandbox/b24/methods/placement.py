"""placement.bind / get / unbind / list, app.info, and per-user read access to deals.

These exist only in an application's context: with a webhook the placement methods answer
`WRONG_AUTH_TYPE` and app.info `ACCESS_DENIED` (docs: widgets/placement-*.md, common/system/app-info.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.b24 import errors, numbers
from sandbox.b24.apps import AppRegistry, AuthContext, LocalApp, admin_only, wrong_auth_type
from sandbox.b24.registry import METHODS, Call, method

# Placement codes the emulator knows, with the scope each needs besides `placement`.
PLACEMENTS: dict[str, str | None] = {
    "CRM_DEAL_DETAIL_TAB": "crm",
    "CRM_LEAD_DETAIL_TAB": "crm",
    "CRM_CONTACT_DETAIL_TAB": "crm",
    "CRM_COMPANY_DETAIL_TAB": "crm",
    "CRM_DEAL_DETAIL_TOOLBAR": "crm",
    "CRM_DEAL_DETAIL_ACTIVITY": "crm",
    "CRM_DEAL_LIST_MENU": "crm",
    "CRM_DEAL_LIST_TOOLBAR": "crm",
    "CRM_DEAL_ACTIVITY_TIMELINE_MENU": "crm",
    "LEFT_MENU": None,
    "REST_APP_URI": None,
    "PAGE_BACKGROUND_WORKER": None,
    "IM_CONTEXT_MENU": "im",
}


def registry(call: Call) -> AppRegistry:
    apps: AppRegistry = call.dispatcher.apps
    return apps


def app_context(call: Call) -> tuple[AuthContext, LocalApp]:
    auth: AuthContext | None = call.auth
    if auth is None:
        raise wrong_auth_type()
    return auth, registry(call).apps[auth.app_id]


def is_admin(call: Call, user_id: int) -> bool:
    row = call.portal.table("users").get(user_id) or {}
    return bool(row.get("_ADMIN"))


def require_admin_app(call: Call) -> tuple[AuthContext, LocalApp]:
    auth, app = app_context(call)
    if not is_admin(call, auth.user_id):
        raise admin_only()
    return auth, app


def argument_error(name: str, description: str | None = None) -> errors.B24Error:
    return errors.B24Error("ERROR_ARGUMENT", description or f"Argument '{name}' is null or empty", 400)


def _placement_code(call: Call) -> str:
    value = call.param("placement")
    if value in (None, ""):
        raise argument_error("PLACEMENT")
    if not isinstance(value, str):
        raise argument_error("PLACEMENT", "The value of an argument 'PLACEMENT' must be of type string")
    return value.strip().upper()


def _render(binding: Mapping[str, Any]) -> dict[str, Any]:
    """placement.get row: the bind parameters in camelCase, `options` `[]` when empty."""
    return {
        "placement": binding["placement"],
        "userId": binding["user_id"],
        "handler": binding["handler"],
        "options": binding["options"] or [],
        "title": binding["title"],
        "description": binding["description"],
        "langAll": binding["lang_all"],
    }


@method("placement.bind")
def placement_bind(call: Call) -> bool:
    _auth, app = require_admin_app(call)
    code = _placement_code(call)
    handler = call.param("handler")
    if handler in (None, ""):
        raise argument_error("HANDLER")
    if code not in PLACEMENTS or (PLACEMENTS[code] and PLACEMENTS[code] not in app.scope):
        raise errors.B24Error("ERROR_PLACEMENT_NOT_FOUND", "Placement not found", 400)
    user_id = numbers.whole(call.param("user_id"), 0)
    for binding in app.bindings:
        if (binding["placement"], binding["handler"], binding["user_id"]) == (code, handler, user_id):
            # Live text and code need a check (docs/sandbox-b24.md); a second bind is refused.
            raise errors.B24Error("ERROR_PLACEMENT_HANDLER_ALREADY_BOUND", "Handler already binded", 400)
    lang_all = call.param("lang_all")
    title = str(call.param("title") or "")
    description = str(call.param("description") or "")
    group_name = str(call.param("group_name") or "")
    if not isinstance(lang_all, Mapping) or not lang_all:
        lang_all = {"ru": {"TITLE": title, "DESCRIPTION": description, "GROUP_NAME": group_name}}
    options = call.param("options")
    # CRM_DEAL_DETAIL_TAB ignores OPTIONS (placement-bind.md).
    if code.endswith("_DETAIL_TAB") or not isinstance(options, Mapping):
        options = {}
    app.bindings.append(
        {
            "placement": code,
            "handler": str(handler),
            "title": title,
            "description": description,
            "group_name": group_name,
            "lang_all": {str(k): dict(v) for k, v in dict(lang_all).items()},
            "options": dict(options),
            "user_id": user_id,
        }
    )
    return True


@method("placement.get")
def placement_get(call: Call) -> list[dict[str, Any]]:
    _auth, app = require_admin_app(call)
    return [_render(b) for b in app.bindings]


@method("placement.unbind")
def placement_unbind(call: Call) -> dict[str, int]:
    _auth, app = require_admin_app(call)
    code = _placement_code(call)
    handler = call.param("handler")
    user_id = call.param("user_id")
    doomed = [
        b
        for b in app.bindings
        if b["placement"] == code
        and (handler in (None, "") or b["handler"] == handler)
        and (user_id in (None, "") or b["user_id"] == numbers.whole(user_id, 0))
    ]
    for binding in doomed:
        app.bindings.remove(binding)
    # placement-unbind.md: `count` grows by one per found record and by one more per removal.
    return {"count": 2 * len(doomed)}


@method("placement.list")
def placement_list(call: Call) -> list[str]:
    """Codes available to this app: its scopes' plus the global ones; `SCOPE` narrows to one scope,
    `FULL` lists every scope's (placement-list.md)."""
    _auth, app = app_context(call)
    only = call.param("scope")
    if only not in (None, ""):
        return [code for code, scope in PLACEMENTS.items() if scope == str(only)]
    if str(call.param("full", "")).lower() in ("1", "true", "y"):
        return list(PLACEMENTS)
    return [code for code, scope in PLACEMENTS.items() if scope is None or scope in app.scope]


@method("app.info")
def app_info(call: Call) -> dict[str, Any]:
    auth: AuthContext | None = call.auth
    if auth is None:
        raise errors.B24Error("ACCESS_DENIED", "Access denied! Application context required", 400)
    app = registry(call).apps[auth.app_id]
    return {
        "ID": app.id,
        "CODE": app.code,
        "VERSION": app.version,
        "STATUS": "L",
        "INSTALLED": app.installed,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": "ru",
        "LICENSE": "ru_std",
        "LICENSE_TYPE": "std",
        "LICENSE_FAMILY": "std",
    }


# -- per-user access to deals ------------------------------------------------------------------
def can_read_deal(call: Call, deal: Mapping[str, Any]) -> bool:
    """Webhook calls keep their old reach; a user's token reads what that user's CRM role allows.

    Levels (set through /_sandbox/apps/permissions): "all" (default), "own" (deals the user is
    responsible for), "none". Portal admins read everything."""
    auth: AuthContext | None = call.auth
    if auth is None or is_admin(call, auth.user_id):
        return True
    level = registry(call).deal_access.get(auth.user_id, "all")
    if level == "all":
        return True
    if level == "own":
        return str(deal.get("ASSIGNED_BY_ID")) == str(auth.user_id)
    return False


def _guard_deal_get() -> None:
    plain = METHODS["crm.deal.get"]

    def deal_get(call: Call) -> Any:
        if call.auth is not None:
            deal_id = call.param("id")
            row = call.portal.table("deals").get(deal_id) if deal_id not in (None, "") else None
            if row is not None and not can_read_deal(call, row):
                # crm-deal-get.md: empty error code, "Access denied".
                raise errors.legacy("Access denied")
        return plain(call)

    METHODS["crm.deal.get"] = deal_get


_guard_deal_get()
