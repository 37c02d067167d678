"""Notifications (im.notify.*), bizproc.workflow.start, timeline comments (lists.*: `lists.py`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sandbox.b24 import clock, errors, numbers, query
from sandbox.b24.apps import SCOPE_OF_PREFIX
from sandbox.b24.registry import Call, Result, method

ATTACH_LIMIT = 60_000


def _notify(call: Call, kind: str) -> int:
    portal = call.portal
    user_id = numbers.digits(call.param("user_id") or "")
    if user_id is None:
        raise errors.B24Error("USER_ID_EMPTY", "User ID can't be empty", 400)
    message = str(call.param("message") or "").strip()
    if not message:
        raise errors.B24Error("MESSAGE_EMPTY", "Message can't be empty", 400)
    attach = call.param("attach")
    if attach is not None and len(json.dumps(attach, ensure_ascii=False)) > ATTACH_LIMIT:
        raise errors.B24Error(
            "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attach", 400
        )
    table = portal.table("notifications")
    tag = call.param("tag")
    new_id = table.new_id()
    if tag:
        # The same TAG replaces the earlier notice (README §7.1); the old one stays visible as replaced.
        for old in table.values():
            if old.get("tag") == tag and old.get("replaced_by") is None:
                old["replaced_by"] = new_id
    table.put(
        new_id,
        {
            "id": new_id,
            "type": kind,
            "user_id": user_id,
            "message": message,
            "message_out": call.param("message_out"),
            "tag": tag,
            "sub_tag": call.param("sub_tag"),
            "attach": attach,
            "from_user_id": call.user_id if kind == "personal" else None,
            "date": clock.iso(clock.now(portal.config.tz)),
            "replaced_by": None,
        },
    )
    return new_id


@method("im.notify.personal.add")
def notify_personal(call: Call) -> int:
    return _notify(call, "personal")


@method("im.notify.system.add")
def notify_system(call: Call) -> int:
    return _notify(call, "system")


@method("im.notify")
def notify_generic(call: Call) -> int:
    return _notify(call, "system" if str(call.param("type") or "").upper() == "SYSTEM" else "personal")


_DOCUMENT_CLASSES = {
    ("crm", "CCrmDocumentDeal"): ("DEAL_", "deals"),
    ("crm", "CCrmDocumentCompany"): ("COMPANY_", "companies"),
    ("crm", "CCrmDocumentContact"): ("CONTACT_", "contacts"),
    ("crm", "CCrmDocumentLead"): ("LEAD_", None),
}


@method("bizproc.workflow.start")
def workflow_start(call: Call) -> str:
    portal = call.portal
    template = numbers.digits(call.param("template_id") or "")
    if template is None or template <= 0:
        raise errors.B24Error("ERROR_WRONG_WORKFLOW_ID", "Empty TEMPLATE_ID", 400)
    document = call.param("document_id")
    if isinstance(document, Mapping):
        document = list(document.values())
    if not isinstance(document, list) or len(document) != 3:
        raise errors.B24Error("", "Wrong DOCUMENT_ID!", 400)
    module, doc_class, doc_id = (str(part) for part in document)
    known = _DOCUMENT_CLASSES.get((module, doc_class))
    if known is not None:
        prefix, table = known
        number = numbers.digits(doc_id[len(prefix) :]) if doc_id.startswith(prefix) else None
        if number is None:
            raise errors.B24Error("", "Wrong DOCUMENT_ID!", 400)
        if table is not None and portal.table(table).get(number) is None:
            raise errors.B24Error("", "Document not found", 400)
    table_rows = portal.table("workflows")
    seq = table_rows.new_id()
    instance = f"{0x66E81A64175 + seq:013x}.{10_000_000 + seq * 7919 % 90_000_000:08d}"
    parameters = call.param("parameters")
    table_rows.put(
        seq,
        {
            "id": instance,
            "template_id": template,
            "document_id": [module, doc_class, doc_id],
            "parameters": parameters if isinstance(parameters, Mapping | list) else {},
            "started_by": call.user_id,
            "started": clock.iso(clock.now(portal.config.tz)),
        },
    )
    return instance


# -- timeline ----------------------------------------------------------------------------------
_OWNERS = {"deal": "deals", "contact": "contacts", "company": "companies"}


@method("crm.timeline.comment.add")
def timeline_comment_add(call: Call) -> int:
    # Only lower-case `fields` since crm 23.100.0 (README §1.2), unlike other legacy methods.
    fields = call.raw.get("fields")
    if not isinstance(fields, Mapping):
        raise errors.missing_argument("fields")
    entity_type = str(fields.get("ENTITY_TYPE") or "").lower()
    entity_id = numbers.digits(fields.get("ENTITY_ID") or "")
    comment = str(fields.get("COMMENT") or "").strip()
    if not entity_type or entity_id is None or not comment:
        raise errors.B24Error("INVALID_ARG_VALUE", "ENTITY_ID, ENTITY_TYPE and COMMENT are required", 400)
    table_name = _OWNERS.get(entity_type)
    if table_name is None or call.portal.table(table_name).get(entity_id) is None:
        raise errors.B24Error("NOT_FOUND", "Not found.", 400)
    table = call.portal.table("timeline_comments")
    new_id = table.new_id()
    files = fields.get("FILES") or []
    table.put(
        new_id,
        {
            "ID": new_id,
            "CREATED": clock.iso(clock.now(call.portal.config.tz)),
            "ENTITY_ID": entity_id,
            "ENTITY_TYPE": entity_type,
            "AUTHOR_ID": call.user_id,
            "COMMENT": comment,
            "FILES": [f[0] for f in files if isinstance(f, list) and f] if isinstance(files, list) else [],
        },
    )
    return new_id


@method("crm.timeline.comment.list")
def timeline_comment_list(call: Call) -> Result:
    portal = call.portal

    def kind_of(name: str) -> str:
        return {"ID": "number", "ENTITY_ID": "number", "AUTHOR_ID": "number", "CREATED": "date"}.get(
            name, "string"
        )

    rows = list(portal.table("timeline_comments").values())
    rows = query.apply_filter(
        rows, query.parse_filter(call.param("filter"), str.upper), kind_of, portal.config.tz
    )
    ordering = query.parse_order(call.param("order"), str.upper) or [("ID", False)]
    rows = query.apply_order(rows, ordering, kind_of, portal.config.tz)
    page = query.paginate(rows, query.parse_start(call.param("start")))
    out = [
        {k: (str(v) if k in ("ID", "ENTITY_ID", "AUTHOR_ID") else v) for k, v in r.items()} for r in page.rows
    ]
    return Result(out, page.total, page.next)


@method("crm.timeline.comment.get")
def timeline_comment_get(call: Call) -> dict[str, Any]:
    row = call.portal.table("timeline_comments").get(call.param("id"))
    if row is None:
        raise errors.B24Error("NOT_FOUND", "Not found.", 400)
    return {k: (str(v) if k in ("ID", "ENTITY_ID", "AUTHOR_ID") else v) for k, v in row.items()}


@method("scope")
def scope(call: Call) -> list[str]:
    """The caller's granted scopes: an application's, or the inbound webhook's (every scope the
    emulator knows unless `/_sandbox/webhook-scopes` limited it)."""
    if call.auth is not None:
        return list(call.dispatcher.apps.apps[call.auth.app_id].scope)
    granted = call.portal.settings.get("webhook_scopes")
    return list(granted) if granted is not None else sorted(set(SCOPE_OF_PREFIX.values()))
