"""Telling a person where they look: one timeline comment on the deal, company or contact per
distinct problem (a retry, a replay or the next run meeting the same problem writes no second
one), always with an audit item. Any flow uses it; none imports another flow for it."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from typing import Any, Literal

from bridge.domain.records import RecordRef
from bridge.ports import Ports
from bridge.store import CursorConflict

type CrmEntity = Literal["deal", "company", "contact"]


def notice_cursor(entity: CrmEntity, entity_id: int, channel: str | None = None) -> str:
    base = f"{entity}-notice-{entity_id}"
    return base if channel is None else f"{base}-{channel}"


def timeline_comment(entity: str, entity_id: int, text: str) -> dict[str, Any]:
    """`crm.timeline.comment.add` params (lower-case `fields` is mandatory; the entity type in
    lower case: `deal`, `company`, `contact`)."""
    return {"fields": {"ENTITY_ID": entity_id, "ENTITY_TYPE": entity.lower(), "COMMENT": text}}


def tell_once(
    ports: Ports,
    entity: CrmEntity,
    entity_id: int,
    *,
    flow: str,
    kind: str,
    text: str,
    detail: dict[str, Any],
    channel: str | None = None,
    subject: str | None = None,
    records: Iterable[RecordRef] = (),
) -> bool:
    """Comment unless this very problem was the last one told on this channel, then audit.
    Returns whether a comment was written (False: already told).

    Without `channel`, one "last problem" is remembered per record (a problem that comes back
    after another one is told again); a flow's own channel keeps its own memory.
    """
    digest = hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()
    name = notice_cursor(entity, entity_id, channel)
    current = ports.store.cursors.get(name)
    told = current is not None and current.value.get("digest") == digest
    if not told:
        ports.b24.call("crm.timeline.comment.add", timeline_comment(entity, entity_id, text))
        with contextlib.suppress(CursorConflict):  # another worker told them at the same moment
            ports.store.cursors.put(
                name, {"digest": digest}, expected_version=current.version if current else None
            )
    ports.store.audit.record(
        flow,
        subject or f"{entity.upper()}-{entity_id}",
        kind,
        {**detail, "text": text, "commented": not told},
        records=records,
    )
    return not told
