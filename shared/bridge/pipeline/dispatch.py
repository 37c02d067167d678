"""Which flow handles which Bitrix24 event: a table handed in whole (built in `bridge.deps`).

The pipeline never imports a flow. An event with no flow is not an error: Bitrix24 sends what the
portal admin subscribed to, and the bridge records that it ignored it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bridge.domain.events import Entity, QueuedEvent

# A flow: re-reads the entity's state and syncs it; returns a short note of what it did (for the
# log and the outcome), raises TransientError to be retried, PermanentError to stop.
type FlowHandler = Callable[[QueuedEvent], str | None]


class Outcome(BaseModel):
    """What happened to one queued event; stored as the idempotency record's result."""

    model_config = ConfigDict(frozen=True)

    event: str
    entity: Entity
    id: int
    status: Literal["done", "ignored", "failed"]
    detail: str = ""


class Registry:
    def __init__(self, table: Mapping[str, FlowHandler] | None = None) -> None:
        self._handlers: dict[str, FlowHandler] = {}
        for name, handler in (table or {}).items():
            self.register([name], handler)

    def register(self, event_names: Iterable[str], handler: FlowHandler) -> FlowHandler:
        names = [name.upper() for name in event_names]
        for name in names:
            current = self._handlers.get(name)
            if current is not None and current is not handler:
                # Two flows fighting over one event would make the outcome depend on table order.
                raise ValueError(f"{name} is already handled by {current.__qualname__}")
        for name in names:
            self._handlers[name] = handler
        return handler

    def handler_for(self, event: str) -> FlowHandler | None:
        return self._handlers.get(event.upper())

    def events(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def dispatch(self, queued: QueuedEvent) -> Outcome:
        handler = self.handler_for(queued.event)
        if handler is None:
            return Outcome(
                event=queued.event,
                entity=queued.entity,
                id=queued.id,
                status="ignored",
                detail="no flow registered for this event",
            )
        detail = handler(queued)
        return Outcome(
            event=queued.event, entity=queued.entity, id=queued.id, status="done", detail=detail or ""
        )
