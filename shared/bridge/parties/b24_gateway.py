"""Reading and writing one party in Bitrix24 (entity + its requisite + the requisite's addresses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge import notices
from bridge.b24.client import B24Client
from bridge.b24.errors import NotFound
from bridge.b24.models import Command
from bridge.parties.b24_map import REQUISITE_OWNER, B24Party, address_fields
from bridge.parties.state import Value

_ENTITY_TYPE_ID = {"COMPANY": 4, "CONTACT": 3}


def method(entity: str, action: str) -> str:
    return f"crm.{entity.lower()}.{action}"


def read_party(b24: B24Client, entity: str, entity_id: int) -> B24Party | None:
    """The entity with its first active requisite and that requisite's addresses; None when gone."""
    result = b24.batch(
        {
            "entity": Command(method(entity, "get"), {"id": entity_id}),
            "requisites": Command(
                "crm.requisite.list",
                {
                    "filter": {"ENTITY_TYPE_ID": _ENTITY_TYPE_ID[entity], "ENTITY_ID": entity_id},
                    "order": {"SORT": "ASC", "ID": "ASC"},
                },
            ),
        }
    )
    if "entity" in result.errors:
        if isinstance(result.errors["entity"], NotFound):
            return None
        raise result.errors["entity"]
    result.raise_for_errors()
    requisites = [r for r in result.result.get("requisites") or [] if isinstance(r, dict)]
    requisite = next((r for r in requisites if r.get("ACTIVE") != "N"), requisites[0] if requisites else None)
    addresses: list[dict[str, Any]] = []
    if requisite is not None:
        addresses = list(
            b24.list_all(
                "crm.address.list",
                {"filter": {"ENTITY_TYPE_ID": REQUISITE_OWNER, "ENTITY_ID": requisite["ID"]}},
            )
        )
    return B24Party(entity, dict(result.result["entity"]), requisite, tuple(addresses))


def write_party(
    b24: B24Client,
    party: B24Party,
    entity_changes: Mapping[str, Any],
    requisite_changes: Mapping[str, Any],
    new_requisite: Mapping[str, Any] | None,
    address_changes: Mapping[str, Value],
) -> int:
    """One batch: entity update, requisite update or add, address add/update. Returns the number
    of write commands sent (0 = nothing to do)."""
    commands: dict[str, Command] = {}
    if entity_changes:
        commands["entity"] = Command(
            method(party.entity, "update"), {"id": party.id, "fields": dict(entity_changes)}
        )
    requisite_id: Any = None
    if party.requisite is not None:
        requisite_id = int(party.requisite["ID"])
        if requisite_changes:
            commands["rq"] = Command(
                "crm.requisite.update", {"id": requisite_id, "fields": dict(requisite_changes)}
            )
    elif new_requisite is not None:
        commands["rq"] = Command("crm.requisite.add", {"fields": dict(new_requisite)})
        requisite_id = "$result[rq]"
    if requisite_id is not None:
        existing = {int(a.get("TYPE_ID") or 0) for a in party.addresses}
        for index, (field, value) in enumerate(address_changes.items()):
            fields = address_fields(field, value, 0)
            fields["ENTITY_ID"] = requisite_id
            action = "update" if fields["TYPE_ID"] in existing else "add"
            commands[f"address{index}"] = Command(f"crm.address.{action}", {"fields": fields})
    if commands:
        b24.batch(commands, halt=True).raise_for_errors()
    return len(commands)


def create_entity(b24: B24Client, entity: str, fields: Mapping[str, Any]) -> int:
    return int(b24.call(method(entity, "add"), {"fields": dict(fields)}).result)


def timeline_comment(b24: B24Client, entity: str, entity_id: int, text: str) -> None:
    b24.call("crm.timeline.comment.add", notices.timeline_comment(entity, entity_id, text))
