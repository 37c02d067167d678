"""The queue message every flow receives: which entity changed, by which event, when.

Shared by the pipeline (which writes and reads it) and the flows (which act on it), so it lives
below both. Bitrix24 events carry only the changed object's id (reference §3.1); the flows re-read
the state, so the message is small and replaying it is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class Entity(StrEnum):
    DEAL = "DEAL"
    COMPANY = "COMPANY"
    CONTACT = "CONTACT"
    REQUISITE = "REQUISITE"
    PRODUCT = "PRODUCT"


class ReceivedEvent(Protocol):
    """What a queued event is made from (the receiver's validated Bitrix24 event)."""

    @property
    def event(self) -> str: ...

    @property
    def ts(self) -> int: ...

    @property
    def entity_id(self) -> int: ...


class EventSender(Protocol):
    """Puts one message on the events queue and returns its message id."""

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str: ...


class QueuedEvent(BaseModel):
    """The queue message: which entity changed, by which event, when. Nothing else is needed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str = Field(min_length=1)
    entity: Entity
    id: int = Field(gt=0)
    ts: int = Field(ge=0)
    received_at: datetime

    @classmethod
    def from_b24(
        cls, event: ReceivedEvent, entity: Entity, received_at: datetime | None = None
    ) -> QueuedEvent:
        return cls(
            event=event.event,
            entity=entity,
            id=event.entity_id,
            ts=event.ts,
            received_at=received_at or datetime.now(UTC),
        )

    @property
    def group_id(self) -> str:
        """FIFO group: one entity's events are handled in order, different entities in parallel."""
        return f"{self.entity}-{self.id}"

    @property
    def business_key(self) -> str:
        """What makes two deliveries the same event (idempotency, logs)."""
        return f"{self.event}:{self.entity}-{self.id}@{self.ts}"
