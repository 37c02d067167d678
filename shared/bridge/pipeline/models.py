"""The event pipeline's boundary model: what Bitrix24 posts to the receiver, and the queue's keys.

The queue message itself (`QueuedEvent`) is `bridge.domain.events`, since the flows read it too.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from bridge.domain.events import Entity, QueuedEvent

# Event-name prefix → entity. Longest prefixes first is not needed: none is a prefix of another.
_ENTITY_BY_PREFIX: tuple[tuple[str, Entity], ...] = (
    ("ONCRMDEAL", Entity.DEAL),
    ("ONCRMCOMPANY", Entity.COMPANY),
    ("ONCRMCONTACT", Entity.CONTACT),
    ("ONCRMREQUISITE", Entity.REQUISITE),
    ("CATALOG.PRODUCT.ON.", Entity.PRODUCT),
    # Deprecated but "still operational" crm.product events carry the same catalog product id.
    ("ONCRMPRODUCT", Entity.PRODUCT),
)


def entity_for_event(event: str) -> Entity | None:
    """The entity an event is about, or None when the bridge has no use for it.

    User-field *configuration* events (ONCRMDEALUSERFIELDADD …) share the entity prefix but their
    ID is a user field's, not the entity's, so they are not entity events.
    """
    name = event.upper()
    if "USERFIELD" in name:
        return None
    for prefix, entity in _ENTITY_BY_PREFIX:
        if name.startswith(prefix):
            return entity
    return None


def _whole_number(value: Any) -> Any:
    """Form bodies carry numbers as text; accept digits only (no signs, decimals or booleans)."""
    if isinstance(value, bool):
        raise ValueError("must be a positive integer")
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise ValueError("must be a positive integer")
        return int(value)
    return value


def _empty_as_no_fields(value: Any) -> Any:
    """`data=` (an empty form value) means "no nested fields", so the reason names what is missing."""
    return {} if value == "" else value


# Bitrix24 ids and timestamps are database integers: anything past a signed 64-bit value is not one
# of its objects (and would not survive DynamoDB's number type or 1C's attribute).
_MAX_ID = 2**63 - 1
type WholeNumber = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=_MAX_ID)]
type PositiveId = Annotated[int, BeforeValidator(_whole_number), Field(gt=0, le=_MAX_ID)]


class B24EventAuth(BaseModel):
    """`auth[…]` of an outbound event. Only the token matters to us; it is never shown in logs."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    application_token: SecretStr = Field(min_length=1)
    domain: str | None = None
    member_id: str | None = None


class B24EventFields(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: PositiveId = Field(alias="ID")


class B24EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    fields: Annotated[B24EventFields, BeforeValidator(_empty_as_no_fields)] = Field(alias="FIELDS")


class B24Event(BaseModel):
    """A Bitrix24 outbound event as posted to the receiver (reference §3.2), form or JSON."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # Event codes are ASCII names (ONCRMDEALUPDATE, catalog.product.on.add): no control characters.
    event: str = Field(min_length=1, max_length=100, pattern=r"^\s*[A-Za-z0-9_.]+\s*$")
    event_handler_id: str | None = None
    data: Annotated[B24EventData, BeforeValidator(_empty_as_no_fields)]
    ts: WholeNumber
    auth: B24EventAuth

    @field_validator("event")
    @classmethod
    def _upper_case(cls, value: str) -> str:
        # Some documentation samples spell codes camel-case (onCrmRequisiteUpdate); Bitrix24 treats
        # event codes case-insensitively.
        return value.strip().upper()

    @field_validator("event_handler_id", mode="before")
    @classmethod
    def _handler_id_text(cls, value: Any) -> Any:
        # App deliveries send it as a number in JSON, outgoing webhooks as text.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @property
    def entity_id(self) -> int:
        return self.data.fields.id


def deduplication_id(queued: QueuedEvent) -> str:
    """SQS FIFO deduplication id: one id per delivery we received.

    Bitrix24 never retries a delivery, and its `ts` has one-second resolution, so two posts with
    the same event, id and `ts` are two changes made within one second (our own write-back and a
    manager's edit, say), not a duplicate: both must be queued, and flows re-read the state, so
    running twice is harmless. What deduplication still guards is our own SendMessage being
    retried by the SDK after a lost answer: the id is computed once per delivery, so the retry
    carries the same id. A hash keeps it within SQS's 128-character limit.
    """
    parts = (queued.event, queued.entity, str(queued.id), str(queued.ts), queued.received_at.isoformat())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
