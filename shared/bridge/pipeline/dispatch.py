"""Which flow handles which Bitrix24 event: a registry the flows fill in when they are imported.

A flow module calls `register(("ONCRMDEALADD", "ONCRMDEALUPDATE"), handle_deal)` at import time
and is listed in `FLOW_MODULES`; the worker imports them once per process (`load_flows`). An event
nobody registered for is not an error: Bitrix24 sends what the portal admin subscribed to, and the
bridge records that it ignored it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bridge.domain.events import Entity, QueuedEvent

# A flow: re-reads the entity's state and syncs it; returns a short note of what it did (for the
# log and the outcome), raises TransientError to be retried, PermanentError to stop.
type FlowHandler = Callable[[QueuedEvent], str | None]

# Dotted names of the modules whose import registers their flows.
FLOW_MODULES: tuple[str, ...] = ("bridge.parties.events", "bridge.deals.flow")


class Outcome(BaseModel):
    """What happened to one queued event; stored as the idempotency record's result."""

    model_config = ConfigDict(frozen=True)

    event: str
    entity: Entity
    id: int
    status: Literal["done", "ignored", "failed"]
    detail: str = ""


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, FlowHandler] = {}

    def register(self, event_names: Iterable[str], handler: FlowHandler) -> FlowHandler:
        names = [name.upper() for name in event_names]
        for name in names:
            current = self._handlers.get(name)
            if current is not None and current is not handler:
                # Two flows fighting over one event would make the outcome depend on import order.
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


_registry = Registry()


def default_registry() -> Registry:
    return _registry


def register(event_names: Iterable[str], handler: FlowHandler) -> FlowHandler:
    """Register `handler` for `event_names` in the worker's registry; returns the handler."""
    return _registry.register(event_names, handler)


@cache
def load_flows() -> Registry:
    for module in FLOW_MODULES:
        importlib.import_module(module)
    return _registry
