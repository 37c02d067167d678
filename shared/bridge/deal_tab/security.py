"""Who may open the «1С» tab: a placement request checked before anything is read (docs/deal-tab.md).

Order of the checks, each refusing on its own:
1. the request's shape (`parse_frame`): 400 with a reason;
2. `DOMAIN` and `member_id` are the configured portal's (`same_portal`): 403;
3. the application token, when the request carries one, is the one stored at install: 403;
4. `AUTH_ID` is a live token of *our* application on that portal: `app.info` asked of the
   configured portal answers our application's id (never a host from the request): 401;
5. `user.current` names the user; `crm.deal.get` with the same token reads the deal, so a
   manager without access to it is refused (403) before 1C is asked anything.
Steps 4–5 (and the deal's product rows) are one `batch` call with the user's token
(`open_deal`), so opening the tab costs the shared rate budget one slot for them.

The resync POST carries a CSRF token: an HMAC over (member_id, user id, deal id, expiry) with a
key from the app's secret, so no server state is needed and a token for another deal, user or
portal, or an expired one, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import SecretStr

from bridge.b24.errors import AccessDenied, AuthError, NotFound, ValidationFailed, error_class

PLACEMENT = "CRM_DEAL_DETAIL_TAB"
CSRF_LIFETIME_S = 2 * 3600  # a tab left open half a working day asks for a reload, nothing worse
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{8,256}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$")
_MEMBER = re.compile(r"^[A-Za-z0-9]{1,64}$")
_DEAL_ID = re.compile(r"^[1-9][0-9]{0,17}$")


class Refused(Exception):
    """The request is answered with `status` and `reason` (shown to the person, logged)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    """A frame POST from the portal (install page or placement), its fields checked for shape."""

    domain: str
    member_id: str
    auth_id: SecretStr
    application_token: SecretStr | None
    placement: str
    deal_id: int | None
    lang: str


def _one(source: Mapping[str, Any], name: str) -> str | None:
    value = source.get(name)
    if isinstance(value, list):  # a repeated field is ambiguous: refuse it rather than guess
        raise Refused(400, f"{name} is given more than once")
    return None if value is None else str(value)


def _required(source: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = _one(source, name)
    if not value:
        raise Refused(400, f"{name} is missing")
    if not pattern.match(value):
        raise Refused(400, f"{name} is malformed")
    return value


def deal_id_of(options: str | None) -> int:
    """The deal id in `PLACEMENT_OPTIONS`, a JSON string `{"ID":"8061"}` (widgets/crm/detail-tab.md)."""
    if not options:
        raise Refused(400, "PLACEMENT_OPTIONS is missing")
    try:
        parsed = json.loads(options)
    except ValueError:
        raise Refused(400, "PLACEMENT_OPTIONS is not JSON") from None
    raw = parsed.get("ID") if isinstance(parsed, dict) else None
    text = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not _DEAL_ID.match(text):
        raise Refused(400, "PLACEMENT_OPTIONS has no deal ID")
    return int(text)


def parse_frame(query: Mapping[str, Any], form: Mapping[str, Any], *, deal: bool) -> Frame:
    """`DOMAIN` in the query (some portals also put it in the body), the rest in the form body."""
    merged = {**form, **{k: v for k, v in query.items() if k in ("DOMAIN", "LANG", "PROTOCOL", "APP_SID")}}
    domain = _required(merged, "DOMAIN", _DOMAIN).lower()
    member_id = _required(form, "member_id", _MEMBER)
    auth_id = _required(form, "AUTH_ID", _TOKEN)
    token = _one(form, "APPLICATION_TOKEN")
    if token is not None and not _TOKEN.match(token):
        raise Refused(400, "APPLICATION_TOKEN is malformed")
    placement = (_one(form, "PLACEMENT") or "DEFAULT").upper()
    deal_id = None
    if deal:
        if placement != PLACEMENT:
            raise Refused(400, f"this handler serves the {PLACEMENT} placement, not {placement[:40]}")
        deal_id = deal_id_of(_one(form, "PLACEMENT_OPTIONS"))
    lang = (_one(merged, "LANG") or "ru")[:5]
    return Frame(
        domain=domain,
        member_id=member_id,
        auth_id=SecretStr(auth_id),
        application_token=SecretStr(token) if token else None,
        placement=placement,
        deal_id=deal_id,
        lang=lang,
    )


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def same_portal(frame: Frame, domain: str | None, member_id: str | None) -> None:
    """403 unless the request names the configured portal (both must be configured)."""
    if not domain or not member_id:
        raise Refused(
            403,
            "the bridge has no portal configured for the tab"
            " (BRIDGE_B24_PORTAL_DOMAIN, BRIDGE_B24_MEMBER_ID)",
        )
    if not _equal(frame.domain, domain.lower()) or not _equal(frame.member_id, member_id):
        # The presented identity is the caller's own portal's, not a secret: the administrator
        # reads the member_id to configure here (docs/admin-bitrix24.md §5).
        raise Refused(
            403, f"the request comes from another portal ({frame.domain}, member_id {frame.member_id})"
        )


@dataclass(frozen=True)
class Installed:
    """What the install handler stored for the portal: our application's id and its token."""

    app_id: str
    application_token: str | None


def same_application(frame: Frame, installed: Installed | None) -> None:
    if installed is None:
        raise Refused(
            403, "the application is not installed on this portal (open it once as an administrator)"
        )
    presented = frame.application_token
    stored = installed.application_token
    if presented is not None and stored is not None and not _equal(presented.get_secret_value(), stored):
        raise Refused(403, "the application token is not the one stored at install")


class AsUser(Protocol):
    def call(self, method: str, token: str, params: Mapping[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    app_id: str


def whoami(portal: AsUser, frame: Frame) -> tuple[str, Viewer]:
    """(app id per `app.info`, the user) for the request's token; 401 when the portal refuses it."""
    token = frame.auth_id.get_secret_value()
    try:
        info = portal.call("app.info", token)
        user = portal.call("user.current", token)
    except (AuthError, AccessDenied, ValidationFailed, NotFound) as error:
        raise Refused(
            401, f"the portal does not accept the request's token ({error.code or 'refused'})"
        ) from None
    if (
        not isinstance(info, Mapping)
        or not isinstance(user, Mapping)
        or not str(user.get("ID", "")).isdigit()
    ):
        raise Refused(401, "the portal's answer names no application or user")
    name = " ".join(str(user.get(k) or "").strip() for k in ("NAME", "LAST_NAME")).strip()
    app_id = str(info.get("ID", ""))
    return app_id, Viewer(user_id=int(user["ID"]), name=name, app_id=app_id)


def authenticate(portal: AsUser, frame: Frame, installed: Installed | None) -> Viewer:
    same_application(frame, installed)
    assert installed is not None
    app_id, viewer = whoami(portal, frame)
    if not app_id or not _equal(app_id, installed.app_id):
        raise Refused(401, "the request's token belongs to another application")
    return viewer


@dataclass(frozen=True)
class Opened:
    """The authenticated user and what they may see of the deal (read with their own token)."""

    viewer: Viewer
    deal: Mapping[str, Any]
    rows: list[Mapping[str, Any]]


def _name(user: Mapping[str, Any]) -> str:
    return " ".join(str(user.get(k) or "").strip() for k in ("NAME", "LAST_NAME")).strip()


def _refusal(error: Mapping[str, Any], deal_id: int) -> Refused:
    code = str(error.get("error") or "")
    description = str(error.get("error_description") or "")
    kind = error_class(code, description, None)
    if kind is AccessDenied:
        return Refused(403, "you have no access to this deal")
    if kind is NotFound:
        return Refused(404, f"deal {deal_id} does not exist")
    return Refused(
        401, f"the portal does not accept the request's token ({code or description or 'refused'})"
    )


def open_deal(
    portal: AsUser,
    frame: Frame,
    installed: Installed | None,
    deal_id: int,
    *,
    before_deal: Callable[[Viewer], None] | None = None,
) -> Opened:
    """Steps 3–5 in ONE call of the user's token (a batch: the shared rate budget pays one slot):
    `app.info` (our application?), `user.current` (who?), `crm.deal.get` (may they?) and the deal's
    product rows as that user sees them."""
    same_application(frame, installed)
    assert installed is not None
    commands = {
        "info": "app.info",
        "me": "user.current",
        "deal": f"crm.deal.get?id={deal_id}",
        "rows": f"crm.deal.productrows.get?id={deal_id}",
    }
    try:
        answer = portal.call("batch", frame.auth_id.get_secret_value(), {"halt": 0, "cmd": commands})
    except (AuthError, AccessDenied, ValidationFailed, NotFound) as error:
        raise Refused(
            401, f"the portal does not accept the request's token ({error.code or 'refused'})"
        ) from None
    results = answer.get("result", {}) if isinstance(answer, Mapping) else {}
    errors = answer.get("result_error", {}) if isinstance(answer, Mapping) else {}
    results = results if isinstance(results, Mapping) else {}
    errors = errors if isinstance(errors, Mapping) else {}
    for key in ("info", "me"):
        if key in errors or not isinstance(results.get(key), Mapping):
            raise Refused(401, "the portal does not accept the request's token")
    info, user = results["info"], results["me"]
    if not str(user.get("ID", "")).isdigit():
        raise Refused(401, "the portal's answer names no user")
    app_id = str(info.get("ID", ""))
    if not app_id or not _equal(app_id, installed.app_id):
        raise Refused(401, "the request's token belongs to another application")
    viewer = Viewer(user_id=int(user["ID"]), name=_name(user), app_id=app_id)
    if before_deal is not None:
        before_deal(viewer)  # the button's CSRF check: a forged press learns nothing about the deal
    if "deal" in errors:
        raise _refusal(errors["deal"], deal_id)
    deal = results.get("deal")
    if not isinstance(deal, Mapping):
        raise Refused(404, f"deal {deal_id} does not exist")
    rows = results.get("rows")
    return Opened(
        viewer=viewer,
        deal=deal,
        rows=[r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else [],
    )


# --- CSRF ------------------------------------------------------------------------------------------


def _mac(key: str, member_id: str, user_id: int, deal_id: int, expires: int) -> str:
    message = f"deal-tab-resync\n{member_id}\n{user_id}\n{deal_id}\n{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def csrf_token(key: str, member_id: str, user_id: int, deal_id: int, now: float) -> str:
    expires = int(now) + CSRF_LIFETIME_S
    return f"{expires}.{_mac(key, member_id, user_id, deal_id, expires)}"


def csrf_valid(key: str, token: str | None, member_id: str, user_id: int, deal_id: int, now: float) -> bool:
    if not token or token.count(".") != 1:
        return False
    expires_text, mac = token.split(".")
    if not expires_text.isdigit() or len(expires_text) > 12 or int(expires_text) < now:
        return False
    return hmac.compare_digest(
        mac.encode(), _mac(key, member_id, user_id, deal_id, int(expires_text)).encode()
    )
