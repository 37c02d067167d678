"""Stored shapes in SyncTable: keys, item models, and their conversion to and from domain models.

| item | pk | sk |
|---|---|---|
| link, B24 side | `B24#<ENTITY>#<id>` | `LINK` |
| link, 1C side | `1C#<entity_set>#<ref>` | `LINK` |
| cursor | `CURSOR#<name>` | `STATE` |
| manifest segment (many entries) | `MANIFEST#<name>` | `#segment#<stamp>#<token>` |
| audit | `AUDIT#<yyyy-mm-dd>` | `<iso ts>#<flow>#<subject>` |
| audit, per record (a copy) | `REC#<kind>#<key>` | `<iso ts>#<flow>#<subject>` |

Both link items carry the whole pair, so either side answers a lookup in one read and a
condition can check "points at the same counterpart" on each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bridge.store.models import AnyRef, AuditEntry, B24Ref, Cursor, Link, OneCRef

type Attributes = dict[str, Any]  # a DynamoDB attribute map ({"pk": {"S": "…"}, …})

LINK_SK = "LINK"
CURSOR_SK = "STATE"
TTL_ATTRIBUTE = "expires_at"


def link_pk(ref: AnyRef) -> str:
    if isinstance(ref, B24Ref):
        return f"B24#{ref.entity}#{ref.id}"
    return f"1C#{ref.entity_set}#{ref.ref}"


def key(pk: str, sk: str) -> Attributes:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def cursor_pk(name: str) -> str:
    return f"CURSOR#{name}"


CONFIG_SK = "RESOLVED"


def config_pk(flow: str) -> str:
    """Resolved configuration of a flow (written by setup, read by the flow)."""
    return f"CONFIG#{flow}"


def manifest_pk(name: str) -> str:
    return f"MANIFEST#{name}"


def audit_pk(day: str) -> str:
    return f"AUDIT#{day}"


def record_pk(kind: str, record_key: str) -> str:
    return f"REC#{kind}#{record_key}"


def is_expired(attributes: Mapping[str, Any], now: float) -> bool:
    """Whether a TTL'd item is past its expiry. DynamoDB deletes expired items up to days late
    (moto never does), so every read of an item with a TTL goes through this check."""
    expires = attributes.get(TTL_ATTRIBUTE)
    return expires is not None and float(expires["N"]) <= now


def texts(**values: str) -> Attributes:
    """String attributes, one per keyword."""
    return {name: {"S": value} for name, value in values.items()}


def _text(attributes: Mapping[str, Any], name: str) -> str:
    return str(attributes[name]["S"])


def _optional_text(attributes: Mapping[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    return None if value is None or "NULL" in value else str(value["S"])


class LinkItem(BaseModel):
    """One side of a link as stored: the whole pair, flat, under that side's key."""

    model_config = ConfigDict(frozen=True)

    side: Literal["B24", "1C"]
    link: Link

    @classmethod
    def from_link(cls, link: Link, side: Literal["B24", "1C"]) -> LinkItem:
        return cls(side=side, link=link)

    def to_link(self) -> Link:
        return self.link

    def to_attributes(self) -> Attributes:
        link = self.link
        return {
            **key(link_pk(link.b24 if self.side == "B24" else link.onec), LINK_SK),
            **texts(
                side=self.side,
                b24_entity=link.b24.entity,
                b24_id=link.b24.id,
                onec_entity_set=link.onec.entity_set,
                onec_ref=link.onec.ref,
                fingerprint=link.fingerprint,
                synced_at=link.synced_at.isoformat(),
            ),
            "data_version": {"NULL": True} if link.data_version is None else {"S": link.data_version},
            "extra": {"M": texts(**link.extra)},
        }

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any]) -> LinkItem:
        side = _text(attributes, "side")
        if side not in ("B24", "1C"):
            raise ValueError(f"unknown link side {side!r}")
        link = Link(
            b24=B24Ref(entity=_text(attributes, "b24_entity"), id=_text(attributes, "b24_id")),
            onec=OneCRef(entity_set=_text(attributes, "onec_entity_set"), ref=_text(attributes, "onec_ref")),
            fingerprint=_text(attributes, "fingerprint"),
            data_version=_optional_text(attributes, "data_version"),
            synced_at=datetime.fromisoformat(_text(attributes, "synced_at")),
            extra={name: str(value["S"]) for name, value in attributes.get("extra", {}).get("M", {}).items()},
        )
        return cls(side="B24" if side == "B24" else "1C", link=link)


class CursorItem(BaseModel):
    """A cursor as stored: the value as JSON text, so any JSON shape round-trips exactly."""

    model_config = ConfigDict(frozen=True)

    name: str
    value_json: str
    version: int
    updated_at: str

    @classmethod
    def new(cls, name: str, value: Mapping[str, Any], version: int, now: float) -> CursorItem:
        return cls(
            name=name,
            value_json=json.dumps(value, ensure_ascii=False, sort_keys=True),
            version=version,
            updated_at=datetime.fromtimestamp(now, UTC).isoformat(),
        )

    def to_attributes(self) -> Attributes:
        return {
            **key(cursor_pk(self.name), CURSOR_SK),
            "name": {"S": self.name},
            "value_json": {"S": self.value_json},
            "version": {"N": str(self.version)},
            "updated_at": {"S": self.updated_at},
        }

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any]) -> CursorItem:
        return cls(
            name=_text(attributes, "name"),
            value_json=_text(attributes, "value_json"),
            version=int(attributes["version"]["N"]),
            updated_at=_text(attributes, "updated_at"),
        )

    def to_cursor(self) -> Cursor:
        return Cursor(
            name=self.name,
            value=json.loads(self.value_json),
            version=self.version,
            updated_at=datetime.fromisoformat(self.updated_at),
        )


class AuditItem(BaseModel):
    """An audit record as stored; `expires_at` is epoch seconds for DynamoDB's TTL."""

    model_config = ConfigDict(frozen=True)

    day: str
    at: str
    flow: str
    subject: str
    outcome: str
    detail_json: str
    expires_at: int

    def to_attributes(self, pk: str | None = None) -> Attributes:
        """The day item, or with `pk` (a `record_pk`) the same record in a record's partition."""
        at, flow, subject = self.at, self.flow, self.subject
        return {
            **key(pk or audit_pk(self.day), f"{at}#{flow}#{subject}"),
            **texts(at=at, flow=flow, subject=subject, outcome=self.outcome, detail_json=self.detail_json),
            TTL_ATTRIBUTE: {"N": str(self.expires_at)},
        }

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any]) -> AuditItem:
        return cls(
            day=_text(attributes, "at")[:10],
            at=_text(attributes, "at"),
            flow=_text(attributes, "flow"),
            subject=_text(attributes, "subject"),
            outcome=_text(attributes, "outcome"),
            detail_json=_text(attributes, "detail_json"),
            expires_at=int(attributes[TTL_ATTRIBUTE]["N"]),
        )

    def to_entry(self) -> AuditEntry:
        return AuditEntry(
            at=datetime.fromisoformat(self.at),
            flow=self.flow,
            subject=self.subject,
            outcome=self.outcome,
            detail=json.loads(self.detail_json),
            expires_at=datetime.fromtimestamp(self.expires_at, UTC),
        )
