"""The install of the local application: what the install handler keeps, and the placement binding.

Kept in SyncTable as a cursor `b24-app-<member_id>` (item family `CURSOR#`): our application's id
on the portal (from `app.info`) and its application token (when the frame brings one), so later
placement requests can be matched against them. Only an administrator's install can write it:
the binding (`placement.bind`, admin-only) must succeed first.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.b24.errors import B24Error
from bridge.deal_tab.security import PLACEMENT, AsUser, Frame, Installed, Refused, whoami
from bridge.store import SyncStore
from bridge.store.errors import CursorConflict

TITLE = "1С"


def cursor_name(member_id: str) -> str:
    return f"b24-app-{member_id}"


def installed(store: SyncStore, member_id: str) -> Installed | None:
    cursor = store.cursors.get(cursor_name(member_id))
    if cursor is None or not cursor.value.get("app_id"):
        return None
    token = cursor.value.get("application_token")
    return Installed(app_id=str(cursor.value["app_id"]), application_token=str(token) if token else None)


def remember(store: SyncStore, member_id: str, app_id: str, application_token: str | None) -> None:
    value = {"app_id": app_id, "application_token": application_token}
    for _ in range(3):  # two installs at once: the later write wins, as a re-install would
        current = store.cursors.get(cursor_name(member_id))
        try:
            store.cursors.put(
                cursor_name(member_id), value, expected_version=current.version if current else None
            )
            return
        except CursorConflict:
            continue


def forget(store: SyncStore, member_id: str) -> None:
    current = store.cursors.get(cursor_name(member_id))
    if current is not None:
        store.cursors.put(cursor_name(member_id), {}, expected_version=current.version)


@dataclass(frozen=True)
class InstallOutcome:
    app_id: str
    user_id: int
    bound: str  # "bound" | "already bound"


def install(portal: AsUser, frame: Frame, handler_url: str, store: SyncStore) -> InstallOutcome:
    """Bind the tab with the installing admin's token, then remember the application."""
    app_id, viewer = whoami(portal, frame)
    if not app_id:
        raise Refused(401, "the portal's app.info names no application")
    token = frame.auth_id.get_secret_value()
    params = {
        "PLACEMENT": PLACEMENT,
        "HANDLER": handler_url,
        "TITLE": TITLE,
        "DESCRIPTION": "Заказ 1С, оплаты и остатки",
    }
    state = "bound"
    try:
        portal.call("placement.bind", token, params)
    except B24Error as error:
        # A second bind of the same handler: refused with a code the docs do not list (needs a
        # live check, docs/sandbox-b24.md); the binding is there, which is what install wants.
        if "ALREADY" not in error.code.upper() and "already" not in error.description.lower():
            raise Refused(
                403,
                f"placement.bind refused: {error.code or error.description}"
                " (only a portal administrator installs)",
            ) from None
        state = "already bound"
    token_value = frame.application_token.get_secret_value() if frame.application_token else None
    remember(store, frame.member_id, app_id, token_value)
    return InstallOutcome(app_id=app_id, user_id=viewer.user_id, bound=state)


def uninstall(portal: AsUser, frame: Frame, store: SyncStore) -> int:
    """Unbind the tab (all our handlers of it); the stored install is forgotten."""
    answer = portal.call("placement.unbind", frame.auth_id.get_secret_value(), {"PLACEMENT": PLACEMENT})
    forget(store, frame.member_id)
    count = answer.get("count", 0) if isinstance(answer, dict) else 0
    return int(count)
