"""Bitrix24 → 1C through the queue: company, contact and requisite events (wired in bridge.deps)."""

from __future__ import annotations

from bridge.b24.errors import NotFound
from bridge.domain.events import Entity, QueuedEvent
from bridge.parties.sync import PartiesFlow

ENTITY_EVENTS = ("ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE", "ONCRMCONTACTADD", "ONCRMCONTACTUPDATE")
DELETE_EVENTS = ("ONCRMCOMPANYDELETE", "ONCRMCONTACTDELETE")
REQUISITE_EVENTS = ("ONCRMREQUISITEADD", "ONCRMREQUISITEUPDATE")
ALL_EVENTS = ENTITY_EVENTS + DELETE_EVENTS + REQUISITE_EVENTS


def handle(queued: QueuedEvent, flow: PartiesFlow) -> str:
    if queued.event in DELETE_EVENTS:
        return flow.b24_deleted(queued.entity.value, queued.id)
    if queued.entity is Entity.REQUISITE:
        try:
            requisite = flow.ports.b24.call("crm.requisite.get", {"id": queued.id}).result
        except NotFound:
            return "requisite gone"
        owner = {"4": "COMPANY", "3": "CONTACT"}.get(str(requisite.get("ENTITY_TYPE_ID")))
        if owner is None:
            return "requisite of another owner type"
        return flow.sync_b24(owner, int(requisite["ENTITY_ID"]))
    return flow.sync_b24(queued.entity.value, queued.id)
