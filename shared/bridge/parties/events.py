"""Bitrix24 → 1C through the queue: company, contact and requisite events (worker dispatch)."""

from __future__ import annotations

from bridge.b24.errors import NotFound
from bridge.deps import default_ports
from bridge.parties.resolved import resolved_config
from bridge.parties.sync import PartiesFlow, parties_mapping
from bridge.pipeline.dispatch import register
from bridge.pipeline.models import Entity, QueuedEvent

ENTITY_EVENTS = ("ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE", "ONCRMCONTACTADD", "ONCRMCONTACTUPDATE")
DELETE_EVENTS = ("ONCRMCOMPANYDELETE", "ONCRMCONTACTDELETE")
REQUISITE_EVENTS = ("ONCRMREQUISITEADD", "ONCRMREQUISITEUPDATE")


def default_flow() -> PartiesFlow:
    ports = default_ports()
    return PartiesFlow(ports, resolved_config(ports.store).load(), parties_mapping(ports))


def handle(queued: QueuedEvent, flow: PartiesFlow | None = None) -> str:
    flow = flow or default_flow()
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


register(ENTITY_EVENTS + DELETE_EVENTS + REQUISITE_EVENTS, handle)
