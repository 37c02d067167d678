"""user.get / user.search / user.current (README §8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.b24 import errors, query
from sandbox.b24.registry import Call, Result, method

_CONTROL = {"filter", "sort", "order", "select", "admin_mode", "image_resize", "start", "find"}


def _kind(name: str) -> str:
    if name in ("ID", "UF_DEPARTMENT"):
        return "number"
    if name in ("LAST_LOGIN", "DATE_REGISTER", "PERSONAL_BIRTHDAY"):
        return "date"
    return "string"


def render_user(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["ID"] = str(row["ID"])
    return out


def _users(call: Call) -> Result:
    portal = call.portal
    params = call.params
    filter_ = dict(params.get("filter") or {}) if isinstance(params.get("filter"), Mapping) else {}
    # The docs' own sample puts filter keys at top level (`UF_DEPARTMENT`, `SORT`, `ORDER`).
    for key, value in call.raw.items():
        if str(key).lower() not in _CONTROL:
            filter_[str(key)] = value
    find = filter_.pop("FIND", None) or params.get("find")
    rows: list[Any] = list(portal.table("users").values())
    if str(filter_.pop("ACTIVE", "")).lower() in ("true", "1", "y"):
        rows = [r for r in rows if r["ACTIVE"]]
    filter_.pop("USER_TYPE", None)
    if find:
        needle = str(find).casefold()
        rows = [
            r
            for r in rows
            if any(needle in str(r.get(k, "")).casefold() for k in ("NAME", "LAST_NAME", "EMAIL"))
        ]
    conditions = query.parse_filter(filter_, str.upper)
    conditions = [
        query.Condition(c.field, "like_raw", c.value) if c.op == "eq" and "%" in str(c.value) else c
        for c in conditions
    ]
    rows = query.apply_filter(rows, conditions, _kind, portal.config.tz)
    sort = params.get("sort") or "ID"
    descending = str(params.get("order") or "asc").lower() == "desc"
    rows = query.apply_order(rows, [(str(sort).upper(), descending)], _kind, portal.config.tz)
    page = query.paginate(rows, query.parse_start(params.get("start")))
    return Result([render_user(r) for r in page.rows], page.total, page.next)


@method("user.get")
def user_get(call: Call) -> Result:
    return _users(call)


@method("user.search")
def user_search(call: Call) -> Result:
    return _users(call)


@method("user.current")
def user_current(call: Call) -> dict[str, Any]:
    row = call.portal.table("users").get(call.user_id)
    if row is None:
        raise errors.no_auth()
    # user.current prints these two as text where user.get shows `{}` (both per the docs' samples).
    return render_user(row) | {
        "TIMESTAMP_X": "09.01.2024 09:00:00",
        "LAST_ACTIVITY_DATE": "2024-01-09 09:00:00",
    }


@method("profile")
def profile(call: Call) -> dict[str, Any]:
    row = call.portal.table("users").get(call.user_id) or {}
    return {
        "ID": str(call.user_id),
        "ADMIN": bool(row.get("_ADMIN")),
        "NAME": row.get("NAME"),
        "LAST_NAME": row.get("LAST_NAME"),
    }


@method("department.get")
def department_get(call: Call) -> Result:
    """A single root department, enough for `batch` samples that chain user → department."""
    rows = [{"ID": "1", "NAME": "Песочница", "SORT": 500, "UF_HEAD": "1"}]
    wanted = call.param("id")
    if wanted not in (None, "") and str(wanted) != "1":
        rows = []
    return Result(rows, len(rows))
