"""Method table: each REST method is a function of a `Call`, registered by its lower-case name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.b24 import errors
from sandbox.b24.state import Portal


@dataclass
class PendingEvent:
    name: str
    fields: dict[str, Any]


@dataclass
class Call:
    method: str
    raw: dict[str, Any]
    portal: Portal
    user_id: int
    events: list[PendingEvent] = field(default_factory=list)
    in_batch: bool = False
    dispatcher: Any = None
    # Journal entries of a batch's sub-commands, recorded by the transport after the batch entry.
    sub_calls: list[dict[str, Any]] = field(default_factory=list)
    # `sandbox.b24.apps.AuthContext` when the call came with an application token; None for the webhook.
    auth: Any = None

    @property
    def params(self) -> dict[str, Any]:
        """Top-level names case-insensitively (docs' own samples send `ID`, `FIELDS`, `FILTER`)."""
        return {str(k).lower(): v for k, v in self.raw.items()}

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name.lower(), default)

    def fields(self, *, required: bool = True) -> dict[str, Any]:
        value = self.param("fields")
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping):
            raise errors.legacy("Parameter 'fields' must be array.")
        return dict(value)

    def emit(self, name: str, fields: dict[str, Any]) -> None:
        self.events.append(PendingEvent(name, fields))

    @property
    def config(self) -> Any:
        return self.portal.config


@dataclass
class Result:
    result: Any
    total: int | None = None
    next: int | None = None


type Handler = Callable[[Call], Any]

METHODS: dict[str, Handler] = {}


def method(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            METHODS[name.lower()] = handler
        return handler

    return register


def as_result(value: Any) -> Result:
    return value if isinstance(value, Result) else Result(value)
