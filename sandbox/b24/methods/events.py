"""event.bind / event.get / event.unbind / event.offline.get.

On a real portal these are application-only (an inbound webhook cannot call them, README §3.4);
the sandbox lets its webhook call them so tests can register handlers without an app install.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.b24 import errors, numbers
from sandbox.b24.registry import Call, method

KNOWN_EVENTS = frozenset(
    {
        "ONCRMDEALADD",
        "ONCRMDEALUPDATE",
        "ONCRMDEALDELETE",
        "ONCRMDEALMOVETOCATEGORY",
        "ONCRMCOMPANYADD",
        "ONCRMCOMPANYUPDATE",
        "ONCRMCOMPANYDELETE",
        "ONCRMCONTACTADD",
        "ONCRMCONTACTUPDATE",
        "ONCRMCONTACTDELETE",
        "ONCRMREQUISITEADD",
        "ONCRMREQUISITEUPDATE",
        "ONCRMREQUISITEDELETE",
        "CATALOG.PRODUCT.ON.ADD",
        "CATALOG.PRODUCT.ON.UPDATE",
        "CATALOG.PRODUCT.ON.DELETE",
        "ONCRMLEADADD",
        "ONCRMLEADUPDATE",
        "ONCRMLEADDELETE",
        "ONCRMTIMELINECOMMENTADD",
        "ONCRMDEALUSERFIELDADD",
        "ONAPPTEST",
    }
)


def _offline(call: Call) -> bool:
    return str(call.param("event_type") or "online").lower() == "offline"


@method("event.bind")
def event_bind(call: Call) -> bool:
    event = str(call.param("event") or "").upper()
    if event not in KNOWN_EVENTS:
        raise errors.B24Error("ERROR_EVENT_NOT_FOUND", "Event not found", 400)
    offline = _offline(call)
    handler = str(call.param("handler") or "")
    if not handler and not offline:
        raise errors.B24Error(
            "ERROR_HANDLER_URL_MISMATCH", "Handler URL host doesn't match application url", 400
        )
    auth_type = str(numbers.whole(call.param("auth_type"), 0))
    table = call.portal.table("event_handlers")
    for row in table.values():
        if (
            row["kind"] == "app"
            and row["event"] == event
            and row["handler"] == handler
            and row["auth_type"] == auth_type
            and bool(row["offline"]) == offline
        ):
            raise errors.B24Error("ERROR_HANDLER_ALREADY_EXIST", "Handler already exists!", 400)
    new_id = table.new_id()
    table.put(
        new_id,
        {
            "id": new_id,
            "kind": "app",
            "event": event,
            "handler": handler,
            "auth_type": auth_type,
            "offline": 1 if offline else 0,
            "application_token": None,
        },
    )
    return True


@method("event.get")
def event_get(call: Call) -> list[dict[str, Any]]:
    rows = [r for r in call.portal.table("event_handlers").values() if r["kind"] == "app"]
    return [
        {"event": r["event"], "handler": r["handler"], "auth_type": r["auth_type"], "offline": r["offline"]}
        for r in rows
    ]


@method("event.unbind")
def event_unbind(call: Call) -> dict[str, int]:
    event = str(call.param("event") or "").upper()
    handler = str(call.param("handler") or "")
    auth_type = call.param("auth_type")
    offline = _offline(call)
    table = call.portal.table("event_handlers")
    count = 0
    for row in table.values():
        if row["kind"] != "app" or row["event"] != event or bool(row["offline"]) != offline:
            continue
        if handler and row["handler"] != handler:
            continue
        if auth_type is not None and row["auth_type"] != str(auth_type):
            continue
        table.delete(row["id"])
        count += 1
    return {"count": count}


@method("event.offline.get")
def event_offline_get(call: Call) -> dict[str, Any]:
    table = call.portal.table("offline_events")
    raw_limit = call.param("limit")
    # A limit that is no whole number reads as the default (docs/sandbox-b24.md, needs a live check).
    limit = 50 if raw_limit in (None, "") else numbers.digits(raw_limit)
    if limit is None:
        limit = 50
    clear = str(call.param("clear", 1)) not in ("0", "false", "N")
    rows = sorted((r for r in table.values() if r.get("PROCESS_ID") is None), key=lambda r: r["ID"])[:limit]
    process_id = uuid.uuid4().hex
    out = []
    for row in rows:
        out.append({k: v for k, v in row.items() if k != "PROCESS_ID"})
        if clear:
            table.delete(row["ID"])
        else:
            row["PROCESS_ID"] = process_id
    return {"process_id": process_id, "events": out}


@method("event.offline.clear")
def event_offline_clear(call: Call) -> bool:
    table = call.portal.table("offline_events")
    process_id = call.param("process_id")
    for row in table.values():
        if row.get("PROCESS_ID") == process_id:
            table.delete(row["ID"])
    return True
