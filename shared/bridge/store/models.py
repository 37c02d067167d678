"""Domain models of the link store: what callers get, never a raw DynamoDB item."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_NO_HASH = r"^[^#]+$"  # `#` separates parts of a partition key, so no part may contain one


class B24Ref(BaseModel):
    """A Bitrix24 object: `entity` is the CRM/catalog kind (DEAL, COMPANY, CONTACT, PRODUCT, SECTION)."""

    model_config = ConfigDict(frozen=True, coerce_numbers_to_str=True)

    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    id: str = Field(min_length=1, pattern=_NO_HASH)


class OneCRef(BaseModel):
    """A 1C object: its entity set (`Document_ЗаказПокупателя`) and `Ref_Key` (lowercase GUID)."""

    model_config = ConfigDict(frozen=True)

    entity_set: str = Field(min_length=1, pattern=r"^[^#\s]+$")
    ref: str

    @field_validator("ref")
    @classmethod
    def _canonical_guid(cls, value: str) -> str:
        # 1C prints GUIDs in lowercase; normalizing keeps one key per object whatever the caller's case.
        return str(uuid.UUID(value))


type AnyRef = B24Ref | OneCRef


class Link(BaseModel):
    """Two objects known to be the same thing, with the state last written between them."""

    model_config = ConfigDict(frozen=True)

    b24: B24Ref
    onec: OneCRef
    fingerprint: str = Field(min_length=1)
    data_version: str | None = None
    synced_at: datetime
    extra: dict[str, str] = Field(default_factory=dict)


class Cursor(BaseModel):
    """A named position of a poller, versioned for optimistic concurrency."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: dict[str, Any]
    version: int = Field(ge=1)
    updated_at: datetime


class AuditEntry(BaseModel):
    """One record of what a flow wrote where."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    flow: str
    subject: str
    outcome: str
    detail: dict[str, Any]
    expires_at: datetime
